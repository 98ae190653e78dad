"""Temporal's TracingInterceptor, with each update's work in its caller's trace.

The SDK's interceptor puts everything a workflow does under the trace that started it, and only links an
update's span to the request that sent it. A case lives for months and most of its work is done in
updates (a screening, a decision): an operator following one HTTP request wants that step's activities
and event-store appends in the request's own trace. So an update that carries a trace context runs in
it — its handler span, the activities it starts and their spans below them. Everything else (the run
itself, signals, timers firing) stays in the workflow's trace, as the SDK makes it.

Spans never enter the workflow's history: on replay none are made, so this changes nothing a replay
checks.
"""

from __future__ import annotations

from typing import Any

import opentelemetry.context
import temporalio.worker
from opentelemetry.trace import SpanKind
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor


class StepTracingInterceptor(TracingInterceptor):
    """TracingInterceptor on clients and workers alike, with updates traced as their caller's step."""

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span-making function the workflow calls out to
        return _UpdatesInTheirCallersTrace


class _UpdatesInTheirCallersTrace(TracingWorkflowInboundInterceptor):
    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        header = input.headers.get(self.header_key)
        if header is None:
            return await super().handle_update_handler(input)
        caller = self.payload_converter.from_payloads([header])[0]
        # The handler runs in a task of its own: the context attached here is its alone.
        token = opentelemetry.context.attach(self._set_on_context(self.text_map_propagator.extract(caller)))
        try:
            self._completed_span(f"HandleUpdate:{input.update}", kind=SpanKind.SERVER)
            return await self.next.handle_update_handler(input)
        finally:
            opentelemetry.context.detach(token)
