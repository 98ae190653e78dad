"""The secretariat's links into Temporal's Web UI: each case and label to its workflow, only where the UI's
address is known, and never to an address that is not a plain http(s) base URL (it lands in an href)."""

from __future__ import annotations

from uuid import UUID

import pytest
from pydantic import ValidationError

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.workflow_links import workflow_links
from clusterlabel.workflows.case import case_workflow_id
from clusterlabel.workflows.label import label_workflow_id

RECORD = UUID("9d488eff-79d7-528f-ae53-61c163b68e72")


def test_a_case_and_a_label_link_to_their_workflows_in_the_namespace_of_the_engine() -> None:
    links = workflow_links("https://temporal.example.org/ui/", "ecei labels")

    assert links is not None
    assert (
        links.case(RECORD)
        == f"https://temporal.example.org/ui/namespaces/ecei%20labels/workflows/{case_workflow_id(RECORD)}"
    )
    assert links.label(RECORD).endswith(f"/namespaces/ecei%20labels/workflows/{label_workflow_id(RECORD)}")


def test_without_the_address_of_a_web_ui_there_are_no_links() -> None:
    assert workflow_links(None, "default") is None


def test_a_clusters_web_ui_is_kept_as_a_base_url_without_its_trailing_slash() -> None:
    assert Settings(temporal_ui_url="https://temporal.example.org/").temporal_ui_url == "https://temporal.example.org"


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "https://temporal.example.org/?q=1", 'https://x.example/"><script>']
)
def test_a_web_ui_address_that_is_not_a_plain_http_base_url_is_refused_naming_its_setting(url: str) -> None:
    with pytest.raises(ValidationError, match="temporal_ui_url"):
        Settings(temporal_ui_url=url)
