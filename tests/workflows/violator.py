"""A workflow whose code breaks the sandbox (it reads the wall clock), as a bug in workflow code would.

A module of its own: the sandbox re-imports a workflow's module, which must import nothing else."""

from datetime import datetime

from temporalio import workflow


@workflow.defn
class SandboxViolator:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()  # RestrictedWorkflowAccessError: fails the workflow task
