"""The activity behind the secretariat's digest: gather what is overdue, expiring or undelivered (from
the read models, through the function the worker is given, since activities read no view themselves)
and queue the period's digest through the outbox, once per period."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel
from temporalio import activity

from clusterlabel.activities.certification import BoundActivities
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.outbox import message_id
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.digest import DigestFacts, SendDigest, digest_key, reminder_horizon
from clusterlabel.domain.notices import SECRETARIAT

DIGEST_ACTIVITY = "send_digest"
DIGEST_ACTOR = "system:schedule"  # the durable schedule's own act, as the timeline names automatic steps

# What is overdue, expiring within a horizon, and undelivered, as of an instant.
DigestSource = Callable[[datetime, timedelta], DigestFacts]


class DigestRequest(BaseModel):
    """The period the digest covers (its start): one digest per period, whichever run asks."""

    period: datetime


class DigestOutcome(BaseModel):
    message_id: UUID | None = None  # None: nothing to report, nothing sent
    overdue: int = 0
    expiring: int = 0
    failed: int = 0
    unpaid: int = 0


@dataclass(eq=False)
class DigestActivities(BoundActivities):
    source: DigestSource

    @activity.defn(name=DIGEST_ACTIVITY)
    def send_digest(self, request: DigestRequest) -> DigestOutcome:
        now = self.app.clock()
        facts = self.source(now, reminder_horizon(self.app.policy, now))
        counts = {
            "overdue": len(facts.overdue),
            "expiring": len(facts.expiring),
            "failed": len(facts.failed),
            "unpaid": len(facts.unpaid),
        }
        if facts.empty:
            return DigestOutcome(**counts)
        envelope = Envelope(actor=DIGEST_ACTOR, key=digest_key(request.period))
        command = SendDigest(period=request.period, facts=facts)
        message = handle(self.app, message_id(envelope, SECRETARIAT), command, envelope)
        return DigestOutcome(message_id=message.id, **counts)
