"""A label's page: its validity and status, its timeline by name, and the steps the reader may take on
it now (an officer suspends, restores, withdraws or renews it; the cluster's contact requests its
renewal inside the window, and appeals its suspension or withdrawal, which the appeals panel decides). Whoever sees the label reads it (access.visible_label)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from clusterlabel.activities.views import label_view
from clusterlabel.domain.account import Role
from clusterlabel.domain.label import Label
from clusterlabel.domain.label_lifecycle import IN_FORCE
from clusterlabel.interfaces.web.access import visible_label
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.common import label_id_from, label_out
from clusterlabel.interfaces.web.message_history import label_events
from clusterlabel.interfaces.web.naming import event_names
from clusterlabel.interfaces.web.office_pages import form_key
from clusterlabel.interfaces.web.page_serving import record_page
from clusterlabel.interfaces.web.pages import page, serve_pages
from clusterlabel.interfaces.web.services import Services


def install(api: FastAPI) -> None:
    serve_pages(api, ("/ui/labels/{label_ref}", label_page))


@page
async def label_page(request: Request) -> Response:
    return await record_page(request, "label.html", _label_shown, form_key=form_key())


def _label_shown(request: Request, svc: Services, who: Principal) -> dict[str, Any]:
    label_id = label_id_from(request.path_params["label_ref"])
    label = visible_label(svc, label_id, who)
    svc.fresh()
    events = label_events(svc, label, who)
    return {
        "label": label_out(label_view(svc.app.policy, label, svc.now()), label, svc.now(), who),
        "events": events,
        "named": event_names(svc, events, label.expert_ids),
        "may": steps_for(svc, label, who),
        # A label withdrawn, superseded or lapsed (its window closed, recorded or not) prints no renewal date
        # a reader could take for one.
        "renewable": label.status_at(svc.now())[0] in IN_FORCE,
        # An appeal stands against the decision recorded (a suspension, a withdrawal), whatever the label reads
        # as now (a suspended one past its validity reads expired), and only inside its window.
        "appealed_state": label.state.value,
        "appeal_window_open": label.appeal_window_open(svc.now(), svc.app.policy),
    }


def steps_for(svc: Services, label: Label, who: Principal) -> dict[str, bool]:
    """The steps the label takes now (its own rules) that the reader's roles may take."""
    officer = who.holds(Role.OFFICER)
    contact = who.holds(Role.CLUSTER) and who.speaks_for(label.cluster_id)
    return {
        "appeal": (officer or contact) and label.appeal is None and label.appeal_window_open(svc.now(), svc.app.policy),
        "decide_appeal": who.holds(Role.APPEALS) and label.appeal_pending,
        "suspend": officer and label.allows("suspend", svc.now()),
        "restore": officer and label.allows("restore"),
        "withdraw": officer and label.allows("withdraw", svc.now()),
        "renew": (officer or contact) and label.may_start_renewal(svc.now()),
    }
