"""DigestWorkflow: what the digest's Temporal Schedule runs once a period (a day by default).

Deterministic and stateless: it works out the period it runs in from its own clock and asks the digest
activity (activities/digest.py) to queue that period's digest, which a repeat of the same period finds
already queued. The schedule is in workflows/digest_schedule.py.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from clusterlabel.activities.digest import DIGEST_ACTIVITY, DigestOutcome, DigestRequest
    from clusterlabel.domain.digest import digest_period
    from clusterlabel.workflows.messages import Message

# Reading the views and saving one message: short. Retried a few times, then the next period tries again.
ACTIVITY_TIMEOUT = timedelta(minutes=2)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=5)


class DigestInput(Message):
    """The schedule's period: every `every`, starting `offset` after midnight UTC."""

    every: timedelta
    offset: timedelta = timedelta(0)


@workflow.defn
class DigestWorkflow:
    """Queues the digest of the period it runs in; returns what it found. No signals, queries or updates."""

    @workflow.run
    async def run(self, input: DigestInput) -> DigestOutcome:
        period = digest_period(workflow.now(), input.every, input.offset)
        outcome: DigestOutcome = await workflow.execute_activity(
            DIGEST_ACTIVITY,
            DigestRequest(period=period),
            result_type=DigestOutcome,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        workflow.logger.info("digest", extra={"period": period.isoformat(), "sent": outcome.message_id is not None})
        return outcome
