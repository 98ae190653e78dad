"""The price list and the quote: what a round of certification costs the cluster (VAT apart).

The prices are policy (domain/policy.toml, `[fees]`), in whole cents of one currency. A quote is computed
when the cluster agrees to its expert team and travels on the invoice issued in the same save
(domain/invoice.py). Only Bronze has a price by video; the agreement names the audit's mode (on site unless
it says otherwise), and the case keeps it as the default of the visit it schedules (domain/case_visit.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from clusterlabel.domain.base import InvalidInput, Level
from clusterlabel.domain.case_lifecycle import CaseKind
from clusterlabel.domain.durations import Duration, IsoDuration

Cents = int


class AuditMode(StrEnum):
    ON_SITE = "on_site"
    VIDEO = "video"


class FeeSchedule(BaseModel):
    """The price list: each price in whole cents of `currency`, VAT apart (`vat` says how it is charged)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str = Field(pattern=r"^[A-Z]{3}$", description="an ISO 4217 code, e.g. EUR")
    vat: str = Field(min_length=1, description="what the invoice says of VAT, e.g. 'excluded'")
    bronze_on_site: Cents = Field(gt=0)
    bronze_video: Cents = Field(gt=0)
    silver: Cents = Field(gt=0)
    gold: Cents = Field(gt=0)
    gold_renewal: Cents = Field(gt=0)
    payment_term: IsoDuration = Field(default=Duration(days=30), description="from the invoice's issue to its due date")


@dataclass(frozen=True)
class Quote:
    """What the cluster is charged for one case: the amount, its currency and what it is for."""

    amount_cents: Cents
    currency: str
    item: str


def quote(fees: FeeSchedule, level: Level, kind: CaseKind, mode: AuditMode) -> Quote:
    """The price of a case's round, from the price list. A benchmarking-only round costs its level's audit;
    Gold's renewal has its own price, other renewals cost as much as the first round."""
    check_mode_offered(level, mode)
    amount, item = _priced(fees, level, kind, mode)
    return Quote(amount_cents=amount, currency=fees.currency, item=item)


def check_mode_offered(level: Level, mode: AuditMode) -> None:
    """Only Bronze may be audited by video: the price list has no other audit by video."""
    if mode is AuditMode.VIDEO and level is not Level.BRONZE:
        raise InvalidInput(f"a {level} audit is held on site: the price list has an audit by video only for bronze")


def _priced(fees: FeeSchedule, level: Level, kind: CaseKind, mode: AuditMode) -> tuple[Cents, str]:
    if level is Level.BRONZE:
        if mode is AuditMode.VIDEO:
            return fees.bronze_video, "Bronze label audit by video"
        return fees.bronze_on_site, "Bronze label audit on site"
    if level is Level.SILVER:
        return fees.silver, "Silver label audit"
    if kind is CaseKind.RENEWAL:
        return fees.gold_renewal, "Gold label renewal audit"
    return fees.gold, "Gold label audit"


def money(amount_cents: Cents, currency: str) -> str:
    """An amount as an invoice prints it: 2,250.00 EUR."""
    return f"{amount_cents // 100:,}.{amount_cents % 100:02d} {currency}"
