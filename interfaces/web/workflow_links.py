"""Links from the secretariat's pages to each record's workflow in Temporal's own Web UI.

Operators follow a case or a label into its workflow's history (its timers, updates, activity tries)
there; the pages only know the UI's address, from the embedded server or CLUSTERLABEL_TEMPORAL_UI_URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote
from uuid import UUID

from clusterlabel.workflows.case import case_workflow_id
from clusterlabel.workflows.label import label_workflow_id


@dataclass(frozen=True)
class WorkflowLinks:
    """Where Temporal's Web UI shows a workflow of `namespace`; `ui_url` has no trailing slash."""

    ui_url: str
    namespace: str

    def workflow(self, workflow_id: str) -> str:
        return f"{self.ui_url}/namespaces/{quote(self.namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"

    def case(self, case_id: UUID | str) -> str:
        return self.workflow(case_workflow_id(case_id))

    def label(self, label_id: UUID | str) -> str:
        return self.workflow(label_workflow_id(label_id))


def workflow_links(ui_url: str | None, namespace: str) -> WorkflowLinks | None:
    """The links, when the UI's address is known (the embedded server's, or a cluster's from the settings)."""
    return None if ui_url is None else WorkflowLinks(ui_url.rstrip("/"), namespace)
