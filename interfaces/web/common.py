"""Helpers the routers share: ids in URLs, idempotency keys and the output shapes (who may see what: access.py)."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request

from clusterlabel.activities.models import CaseView, LabelView
from clusterlabel.domain.command_base import command_key, fresh_occurrence
from clusterlabel.domain.label import Label, label_id_for
from clusterlabel.domain.label_import import PRINTED_CODE
from clusterlabel.domain.label_lifecycle import LabelState, RenewalWindow, label_status_at
from clusterlabel.interfaces.web import idempotency
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.errors import ApiError, problems
from clusterlabel.interfaces.web.schemas import (
    CaseOut,
    CaseSummary,
    ErrorMessage,
    HistoryEvent,
    InvalidInputError,
    LabelOut,
)
from clusterlabel.projections.audit_history import AuditEntry
from clusterlabel.projections.case_status import CaseStatus

LABEL_CODE = re.compile(r"^ECEI-[BSG]-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
SECRET_FIELDS = frozenset({"verification_code"})

# Declared on every route so that the OpenAPI document lists every answer a client may get.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "no valid bearer token"},
    403: {"model": ErrorMessage, "description": "the token may not do this"},
    404: {"model": ErrorMessage, "description": "unknown id, or a record the token may not see (the same answer)"},
    409: {"model": ErrorMessage, "description": "a conflict, or a step the current state does not allow"},
    413: {"model": ErrorMessage, "description": "the body is too large"},
    422: {"model": InvalidInputError, "description": "invalid input: one entry per problem"},
    503: {"model": ErrorMessage, "description": "the engine is starting, unreachable, or did not take the step"},
}
PUBLIC_ERRORS: dict[int | str, dict[str, Any]] = {code: ERRORS[code] for code in (404, 413, 422, 503)}
VIEW_AGE_HEADER = "X-View-Age"
# The public reads: answered from the view as it stands, and rate-limited per client.
PUBLIC_READ: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            VIEW_AGE_HEADER: {
                "description": "seconds the answer may be behind the event log (0: the view had read all of it)",
                "schema": {"type": "number", "minimum": 0},
            }
        }
    },
    429: {
        "model": ErrorMessage,
        "description": "too many requests from this address; retry after the Retry-After header's seconds",
        "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}},
    },
}


def public_router() -> APIRouter:
    """A module's router for the operations anyone may call without a token: tagged `public`, as the OpenAPI
    document groups them, and declaring only the errors the public can get (no 401 nor 403)."""
    return APIRouter(tags=["public"], responses=PUBLIC_ERRORS)


def idempotency_key(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias=idempotency.HEADER,
            min_length=1,
            max_length=idempotency.KEY_MAX_LENGTH,
            pattern=idempotency.KEY_PATTERN,
            description="repeat a request with the same key and it is carried out once; "
            "a different request (another body, path or caller) under a key already used is refused with 422",
        ),
    ] = None,
) -> str | None:
    """The request's Idempotency-Key; 422 when it stands for another request (interfaces.web.idempotency).
    Every command route names its caller before its key, so an unauthorised caller hears 401 or 403
    before anything about the key."""
    if request.scope.get("state", {}).get(idempotency.REUSED_MARK):
        raise ApiError(422, problems([idempotency.REUSED], ("header", idempotency.HEADER), "idempotency_key_reused"))
    return key


# The Idempotency-Key, as every command route takes it, after its caller.
Key = Annotated[str | None, Depends(idempotency_key)]


def creation_key(created: str, key: str | None) -> str:
    """The idempotency key of a request that creates a record (see domain.commands.command_key)."""
    return command_key("http", created, fresh_occurrence(key))


def is_label_code(text: str) -> bool:
    """A label's printed code: the engine's, in any case, or the one an imported label was awarded."""
    return bool(LABEL_CODE.match(text.upper()) or PRINTED_CODE.match(text))


def label_id_from(ref: str) -> UUID:
    """A label in a URL: its UUID or its printed code (ECEI-B-XXXX-XXXX-XXXX, or an imported label's), either case."""
    text = ref.strip()
    try:
        return UUID(text)
    except ValueError:
        pass
    if is_label_code(text):
        return label_id_for(text)
    raise ApiError(404, f"no label {ref!r}: give its id (UUID) or its code (ECEI-B-XXXX-XXXX-XXXX)")


# ---- output shapes ---------------------------------------------------------------------------


def case_out(view: CaseView) -> CaseOut:
    """The case as a view shows it (the one an update answered, or case_view of a loaded case)."""
    return CaseOut.model_validate({**view.model_dump(), "expert_ids": view.team})


def reads_the_assessment(principal: Principal, team: Collection[UUID], decided: bool) -> bool:
    """A case's assessment (scores, findings, report, the level recommended, signatures, a Silver
    validation): the secretariat's and the case's team's at once, and once the case is decided, everyone's
    who sees the case; not the cluster's contact's before, nor an expert's who is only proposed. The one
    rule for the case, its list entry, its history, its benchmarking and its report."""
    return decided or principal.sees_everything or principal.expert_id in team


def for_the_reader(out: CaseOut, decided: bool, principal: Principal) -> CaseOut:
    """The case without its assessment for a reader who may not read it yet (reads_the_assessment), and
    without what it needs the secretariat's attention for unless the reader is the secretariat or on its team
    (the notes may name experts and why they may not take the case: as the history's Escalated events)."""
    hidden: dict[str, Any] = {}
    if not reads_the_assessment(principal, out.expert_ids, decided):
        hidden |= {"recommended_level": None, "signed_by": [], "silver_validation": None}
    if not (principal.sees_everything or principal.expert_id in out.expert_ids):
        hidden |= {"attention": []}
    return out.model_copy(update=hidden) if hidden else out


def case_summary(status: CaseStatus, principal: Principal) -> CaseSummary:
    """A case in a list; an undecided case's signatures (open, or withdrawn before its decision) only for
    those who read its assessment."""
    summary = CaseSummary.model_validate(status.model_dump())
    if reads_the_assessment(principal, status.expert_ids, decided=status.decided):
        return summary
    return summary.model_copy(update={"signed_by": []})


def label_out(view: LabelView, label: Label, now: datetime, principal: Principal) -> LabelOut:
    """The label as a view shows it (the one an update answered, or label_view of `label`) at `now`;
    `label` is the one loaded to authorise the caller, for what never changes (its verification code)."""
    since = view.state_since or label.state_since
    state, since = label_status_at(LabelState(view.state), since, view.valid_until, now, RenewalWindow.of(view))
    shown = {"verification_code": label.verification_code if reads_verification_code(principal, label) else None}
    if not reads_the_label_in_full(principal, label):
        shown |= {"appeal": None, "appeal_due": None, "renewal_case_id": None, "superseded_by": None}
    return LabelOut.model_validate({**view.model_dump(), "state": state, "since": since, **shown})


def reads_verification_code(principal: Principal | None, label: Label) -> bool:
    """The secretariat and the label's own cluster print certificates with the code that proves them
    genuine; an expert never needs it, and the public must not have it (it would prove any copy)."""
    if principal is None:
        return False
    own = principal.speaks_for(label.cluster_id)
    return principal.sees_everything or own


def reads_the_label_in_full(principal: Principal, label: Label) -> bool:
    """A label's appeal against its suspension or withdrawal (the cluster's grounds, the appeals panel's
    rationale) and its succession (its renewal case, the label that superseded it) are between the label's
    own cluster and the secretariat, as its code is: the audit's experts read the cases they were on, and
    the label outlives their case; a later round's records may not be theirs to see. The one rule for the
    label and its history (LABEL_APPEAL, LABEL_SUCCESSION)."""
    return reads_verification_code(principal, label)


# What a cluster's contact reads of an audit: its assessment and report once the case is decided (and
# not while the decision is pending), and never why an expert declined or was taken off the case, nor what
# the case was escalated to the secretariat for (an escalation may name experts and why they may not serve).
UNTIL_DECIDED = frozenset(
    {"AssessmentSubmitted", "SilverValidated", "ReportDrafted", "AssessmentSigned", "ReportSubmitted"}
)
NOT_FOR_THE_CLUSTER = frozenset({"ExpertDeclined", "ExpertReleased", "Escalated"})
# What a reader who may not open a case's files (access.reads_evidence: an expert only proposed, or no
# longer on the team) reads of them: that files came, not their names or digests.
CASE_FILES = frozenset({"EvidenceAttached"})
# What a reader who may not read a label's appeal (reads_the_label_in_full) reads of it: that it was lodged
# and when, by whom, and that it was upheld or dismissed (the label's state tells as much); not the cluster's
# grounds nor the appeals panel's rationale.
LABEL_APPEAL = frozenset({"LabelAppealLodged", "LabelAppealUpheld", "LabelAppealDismissed"})
# And of its succession: that a renewal was started, abandoned, or the label superseded, and when; not the
# renewal case nor the new label, which an expert of the label's own case may not see.
LABEL_SUCCESSION = frozenset({"RenewalStarted", "RenewalAbandoned", "Superseded"})


def history_events(
    entries: list[AuditEntry],
    principal: Principal,
    team_cases: Collection[UUID] = (),
    file_cases: Collection[UUID] | None = (),
    full_labels: Collection[UUID] | None = (),
) -> list[HistoryEvent]:
    """Events as `principal` may read them: those of the cases it sits on the team of (`team_cases`) in
    full, every other case's as the cluster reads them (reads_the_assessment), unless it is the secretariat;
    the names of the files of `file_cases` alone, and the appeals and succession of `full_labels` alone
    (reads_the_label_in_full; None, for a cluster's own contact: of every case, of every label).

    A withheld event keeps its place, type, instants and actor and loses its data, so that the history
    still counts every event of the record, version after version."""
    events = [HistoryEvent.model_validate(entry, from_attributes=True) for entry in entries]
    if principal.sees_everything:
        return events
    return [
        event.model_copy(update={"data": _redacted(event.data)})
        for event in _as_the_cluster_reads_them(events, team_cases, file_cases, full_labels)
    ]


def _as_the_cluster_reads_them(
    events: list[HistoryEvent],
    team_cases: Collection[UUID],
    file_cases: Collection[UUID] | None,
    full_labels: Collection[UUID] | None,
) -> list[HistoryEvent]:
    decided = {event.aggregate_id for event in events if event.type == "DecisionRecorded"}

    def withheld(event: HistoryEvent) -> bool:
        if event.type in CASE_FILES and file_cases is not None:
            return event.aggregate_id not in file_cases
        if event.type in LABEL_APPEAL or event.type in LABEL_SUCCESSION:
            return full_labels is not None and event.aggregate_id not in full_labels
        if event.aggregate_id in team_cases:
            return False
        return event.type in NOT_FOR_THE_CLUSTER or (event.type in UNTIL_DECIDED and event.aggregate_id not in decided)

    return [event.model_copy(update={"data": {}}) if withheld(event) else event for event in events]


def _redacted(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in SECRET_FIELDS}
