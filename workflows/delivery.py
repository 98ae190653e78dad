"""DeliveryWorkflow: one message of the outbox, sent or marked failed.

Started for every message queued (workflows/outbox_relay.py follows the log; the reconciler starts any
that a queued message lacks), id `notification-<id>`. A message an officer queues again is sent by a new
run under the same id. The message itself says whether there is anything to do: a run for a message
already sent or failed records nothing and ends, so a duplicate start is harmless.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from clusterlabel.activities.delivery import DeliveryActivities as Acts
    from clusterlabel.activities.delivery import failed_try
    from clusterlabel.activities.models import DeliveryOutcome, SendMessage
    from clusterlabel.workflows.messages import DeliveryWorkflowInput

from clusterlabel.workflows.sending import Sending, last_failure

# One try: connecting, STARTTLS, AUTH and the transaction, each bounded by the SMTP timeout (30 s),
# plus a wait for this process's pace.
SEND_TIMEOUT = timedelta(minutes=2)
SENDING = Sending(Acts.send_message, SEND_TIMEOUT, Acts.record_delivery)


def delivery_workflow_id(notification_id: UUID | str) -> str:
    return f"notification-{notification_id}"


@workflow.defn
class DeliveryWorkflow:
    """Sends one message: `send_message` tried up to `attempts` times, the pauses doubling from `backoff`
    (Temporal's retry policy, which costs the history nothing until a try succeeds or the last fails),
    then `record_delivery` records it sent or failed. Returns the DeliveryOutcome.
    No signals, queries or updates."""

    @workflow.run
    async def run(self, input: DeliveryWorkflowInput) -> DeliveryOutcome:
        tries = RetryPolicy(initial_interval=input.backoff, backoff_coefficient=2.0, maximum_attempts=input.attempts)
        message = SendMessage(notification_id=input.notification_id)
        return await SENDING.run(message, tries, lambda error: _failed(input, error))


def _failed(input: DeliveryWorkflowInput, error: ActivityError) -> DeliveryOutcome:
    """The last try's failure as the outcome to record: its reason, the tries it took, the message's round."""
    reason, details = last_failure(error)
    attempts, message_round = failed_try(details, input.attempts)
    workflow.logger.warning("message not delivered", extra={"notification_id": str(input.notification_id)})
    return DeliveryOutcome(
        notification_id=input.notification_id, status="failed", round=message_round, attempts=attempts, reply=reason
    )
