"""WebhookDeliveryWorkflow: one label change posted to one partner's webhook, or marked failed.

Started for every delivery queued (workflows/outbox_relay.py follows the log; the reconciler starts any
that a queued delivery lacks), id `webhook-delivery-<id>`. The delivery itself says whether there is
anything to do: a run for one already delivered, failed or dropped records nothing and ends, so a
duplicate start is harmless.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from clusterlabel.activities.webhook_delivery import PostWebhook, WebhookOutcome
    from clusterlabel.activities.webhook_delivery import WebhookActivities as Acts
    from clusterlabel.workflows.messages import WebhookDeliveryInput

from clusterlabel.workflows.sending import Sending, last_failure

# One try: the endpoint's answer is awaited for at most 15 s (activities/webhook_delivery.py).
POST_TIMEOUT = timedelta(minutes=1)
POSTING = Sending(Acts.post_webhook, POST_TIMEOUT, Acts.record_webhook_delivery)
# The longest pause between tries, as a multiple of the first (as for the outbox's messages).
LONGEST_PAUSE = 100


def webhook_delivery_workflow_id(delivery_id: UUID | str) -> str:
    return f"webhook-delivery-{delivery_id}"


@workflow.defn
class WebhookDeliveryWorkflow:
    """Posts one change: `post_webhook` tried up to `attempts` times, the pauses doubling from `backoff`
    (Temporal's retry policy, which costs the history nothing until a try succeeds or the last fails),
    then `record_webhook_delivery` records it delivered, failed or dropped. Returns the WebhookOutcome.
    No signals, queries or updates."""

    @workflow.run
    async def run(self, input: WebhookDeliveryInput) -> WebhookOutcome:
        tries = RetryPolicy(
            initial_interval=input.backoff,
            backoff_coefficient=2.0,
            maximum_interval=input.backoff * LONGEST_PAUSE,
            maximum_attempts=input.attempts,
        )
        post = PostWebhook(delivery_id=input.delivery_id)
        return await POSTING.run(post, tries, lambda error: _failed(input, error))


def _failed(input: WebhookDeliveryInput, error: ActivityError) -> WebhookOutcome:
    """The last try's failure as the outcome to record: its reason and the tries it took."""
    reason, details = last_failure(error)
    attempts = details if isinstance(details, int) else input.attempts
    workflow.logger.warning("webhook not delivered", extra={"webhook_delivery_id": str(input.delivery_id)})
    return WebhookOutcome(delivery_id=input.delivery_id, status="failed", attempts=attempts, reason=reason)
