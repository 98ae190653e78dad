"""Who is told what, when a step of a label calls for it: its issue, expiry reminders, suspension,
withdrawal, restoration and appeals (the notices' shape and recipients: domain/notices.py)."""

from __future__ import annotations

from datetime import datetime

from clusterlabel.domain.label import Label
from clusterlabel.domain.label_lifecycle import SUSPENSION_LIMIT_REASON, last_valid_day
from clusterlabel.domain.notices import APPEALS_PANEL, CLUSTER, SECRETARIAT, Notice, instant, recipient


def label_issued(label: Label) -> list[Notice]:
    """The cluster's contacts learn their label's code, its verification code and how long it is valid."""
    subject = f"Your {label.level} label {label.label_code}"
    body = (
        f"{label.cluster_name} holds the {label.level} label {label.label_code} (verification code "
        f"{label.verification_code}), valid until {last_valid_day(label.valid_until):%Y-%m-%d}."
    )
    return [
        Notice(
            recipient(CLUSTER, label.cluster_id),
            "label_issued",
            subject,
            body,
            case_id=label.case_id,
            label_id=label.id,
            data=_label_data(label) | {"verification_code": label.verification_code},
        )
    ]


def expiry_reminders(label: Label, offset: str) -> list[Notice]:
    """The label expires soon: the cluster and the secretariat are told, with the renewal window."""
    # As the message's template words them: the validity's and the renewal window's last days, not their ends.
    last_day = last_valid_day(label.valid_until)
    subject = f"Label {label.label_code} is valid until {last_day:%Y-%m-%d}"
    body = (
        f"The {label.level} label {label.label_code} of {label.cluster_name} is valid until {last_day:%Y-%m-%d} "
        f"and renewable until {last_valid_day(label.renewable_until):%Y-%m-%d}. Reminder sent {offset} before expiry."
    )
    recipients = (recipient(CLUSTER, label.cluster_id), SECRETARIAT)
    data = _label_data(label) | {"renewable_until": instant(label.renewable_until)}
    return [Notice(to, "expiry_reminder", subject, body, label_id=label.id, data=data) for to in recipients]


def label_decision(label: Label, appeal_due: datetime) -> list[Notice]:
    """The cluster learns that its label was suspended or withdrawn, why, and until when it may appeal."""
    subject = f"Label {label.label_code} is {label.state.value}"
    body = f"The label {label.label_code} is {label.state.value}: {label.reason}. Appeal until {appeal_due:%Y-%m-%d %H:%M:%S} UTC."
    # An appeal against the suspension still pending stands against the withdrawal at its limit: no new one.
    data = _label_data(label) | {
        "state": label.state.value,
        "reason": label.reason or "",
        "appeal_due": instant(appeal_due),
        "appeal_pending": "yes" if label.appeal_pending else "no",
        "at_suspension_limit": "yes" if label.reason == SUSPENSION_LIMIT_REASON else "no",
    }
    return [Notice(recipient(CLUSTER, label.cluster_id), "label_decision", subject, body, label_id=label.id, data=data)]


def label_restored(label: Label, rationale: str = "") -> list[Notice]:
    """The cluster learns that its label's suspension is lifted, and why when the secretariat said: told it
    may not show the label, it is told when it may again (an expired one: that it may be renewed, or that its
    renewal under way decides; one past its renewal window: that it has lapsed, and the cluster may apply anew)."""
    subject = f"Your label {label.label_code} is no longer suspended"
    state = _status_after_step(label)
    if state == "lapsed":
        where = f"it has lapsed, its renewal window having closed on {last_valid_day(label.renewable_until):%Y-%m-%d}"
    elif state == "expired":
        where = f"its validity ended on {last_valid_day(label.valid_until):%Y-%m-%d}"
        where += " and its renewal is under way" if label.renewal_case_id is not None else ""
    else:
        where = f"it is {state}, valid until {last_valid_day(label.valid_until):%Y-%m-%d}"
    body = f"The suspension of the label {label.label_code} is lifted: {where}." + (
        f" Why: {rationale}" if rationale else ""
    )
    data = _label_data(label) | {"state": state, "reason": rationale} | _renewal_facts(label, state)
    to = recipient(CLUSTER, label.cluster_id)
    return [Notice(to, "label_restored", subject, body, label_id=label.id, data=data)]


def label_appeal_lodged(label: Label) -> list[Notice]:
    """The secretariat and the appeals panel learn of an appeal against the label's suspension or
    withdrawal, with its grounds."""
    assert label.appeal is not None, "sent once the appeal is lodged"
    against, grounds = label.appeal["against"], label.appeal["grounds"]
    decision = "suspension" if against == "suspended" else "withdrawal"
    subject = f"Label {label.label_code}: appeal lodged against its {decision}"
    body = f"{label.cluster_name} appealed against the {decision} of the label {label.label_code}. Grounds: {grounds}"
    data = _label_data(label) | {"against": against, "grounds": grounds}
    return [Notice(APPEALS_PANEL, "label_appeal_lodged", subject, body, label_id=label.id, data=data)]


def label_appeal_decided(label: Label, upheld: bool, rationale: str) -> list[Notice]:
    """The cluster learns the appeals panel's decision on its label's suspension or withdrawal."""
    against = (label.appeal or {}).get("against", "")
    subject = f"Label {label.label_code}: appeal {'upheld' if upheld else 'dismissed'}"
    body = f"The appeal against the label's {against} state is {'upheld' if upheld else 'dismissed'}: {rationale}."
    data = _label_data(label) | {"upheld": "yes" if upheld else "no", "rationale": rationale, "against": against}
    if upheld:  # back in force, expired, lapsed (its renewal window closed meanwhile) or superseded by a newer label
        data["state"] = state = _status_after_step(label)
        data |= _renewal_facts(label, state)
    else:  # the decision that stands: a suspension, or a withdrawal (the one an appeal against a suspension
        data["state"] = label.state.value  # carried over to at the suspension's limit, too), which is final
    notice = Notice(
        recipient(CLUSTER, label.cluster_id), "label_appeal_decided", subject, body, label_id=label.id, data=data
    )
    return [notice]


def _status_after_step(label: Label) -> str:
    """The label's status as the step just recorded left it (from its state's start): one put back in force
    after its validity reads expired, and after its renewal window lapsed (label_lifecycle.label_status_at)."""
    return label.status_at(label.state_since)[0].value


def _renewal_facts(label: Label, state: str) -> dict[str, str]:
    """What the message of a step that put a label back in force says of its renewal: when its window closed,
    for one that lapsed; its open renewal case, for an expired one (the renewal decides; it is not renewed
    again from its page); nothing for any other."""
    if state == "lapsed":
        return {"renewable_until": instant(label.renewable_until)}
    if state == "expired" and label.renewal_case_id is not None:
        return {"renewal_case_id": str(label.renewal_case_id)}
    return {}


def _label_data(label: Label) -> dict[str, str]:
    return {
        "label_code": label.label_code,
        "level": str(label.level),
        "cluster_name": label.cluster_name,
        "valid_until": instant(label.valid_until),
    }
