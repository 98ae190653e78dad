"""How a decided case concludes, each its workflow's own step: the label issued (replacing the labels it
supersedes), the appeal window of an award below the level applied for, the report's digest frozen, and
the case closed."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from clusterlabel.activities import outbox, webhooks
from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain import commands, label_notices, notices
from clusterlabel.domain.base import RecordedAggregate, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseState
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.label import Label


def issue_label(app: CertificationApp, case_id: UUID, command: commands.IssueLabel, env: Envelope) -> CertificationCase:
    """The awarded case's label, and the message that tells the cluster, in one save; a renewal's label
    supersedes the one it renews (unless that one was withdrawn meanwhile: see Label.may_be_superseded), as
    does a label at a level the cluster holds already (a Silver case awarded Bronze: its second benchmarking)
    and the label of this case's award that an upheld appeal sent back to a new decision (Succession)."""
    case = app.get_case(case_id)
    if case.label_id is not None:
        return case
    cluster = app.get_cluster(case.cluster_id)
    succession = Succession.of(app, case, cluster)
    if succession.kept is not None:
        case.record_label(succession.kept.id, *env.who())
        app.save_once(env.key, case, *outbox.queue(label_notices.label_issued(succession.kept), env))
        return case
    previous = succession.superseded
    for label in succession.released:
        cluster.release_label(label.id, *env.who())
    label = Label.issue(
        case=case,
        cluster=cluster,
        verification_code=app.new_verification_code(),
        policy=app.policy,
        supersedes=previous,
        actor=env.actor,
        command_key=env.key,
        replacing=succession.replacing,
    )
    case.record_label(label.id, *env.who())
    cluster.grant_label(label.id, label.level, previous.id if previous else None, *env.who())
    changed: list[RecordedAggregate] = [label, cluster, *outbox.queue(label_notices.label_issued(label), env)]
    changed += webhooks.announce(app, label, env)
    for replaced in succession.replaced:
        replaced.supersede(label.id, case.id, env.instant(), *env.who(), renewal=replaced.id == case.previous_label_id)
        changed += [replaced, *webhooks.announce(app, replaced, env)]
    app.save_once(env.key, case, *changed)
    return case


@dataclass(frozen=True)
class Succession:
    """What an awarded case's label does to the cluster's labels: the one place that names them, for issuing
    the label and for the award's own check that none of them is suspended (activities/case_handlers.py)."""

    kept: Label | None  # decided again on appeal at the level appealed: that label stands as it was
    superseded: Label | None  # the label the new one supersedes (the renewed one, or the one held at its level)
    released: list[Label]  # the other labels that give way to the new one (the award appealed, one held at its level)
    replacing: UUID | None  # the label of the award appealed, at the same level but no longer standing

    @property
    def replaced(self) -> list[Label]:
        """Every label the new one supersedes."""
        return [self.superseded, *self.released] if self.superseded else []

    @classmethod
    def of(cls, app: CertificationApp, case: CertificationCase, cluster: Cluster) -> Succession:
        level = case.decision["level"] if case.decision else None
        # Decided again on appeal at the level appealed (its label would take the same code): that label stands
        # as it was, unless it no longer stands (withdrawn, or lapsed meanwhile), when the new one takes a code
        # of its own.
        same = app.get_label(case.appealed_label_id) if case.appealed_label_id else None
        same = same if same is not None and same.level == level else None
        if same is not None and same.may_be_superseded:
            return cls(kept=same, superseded=None, released=[], replacing=None)
        # The label it renews; else (or if a Silver round's Bronze award superseded that one meanwhile) the
        # cluster's label at the awarded level; else the label of the award appealed.
        held = cluster.current_labels.get(level) if level else None
        ids = dict.fromkeys(i for i in (case.previous_label_id, held, case.appealed_label_id) if i)
        standing = [label for label in map(app.get_label, ids) if label.may_be_superseded]
        # The others still standing give way too: the award appealed, when another label is the one superseded,
        # and the label held at the awarded level, when a renewal at another level is awarded there (a Silver
        # renewal awarded Bronze replaces the Silver label renewed and the Bronze label held).
        return cls(None, standing[0] if standing else None, standing[1:], same.id if same else None)


def open_appeal_window(
    app: CertificationApp, case_id: UUID, command: commands.OpenAppealWindow, env: Envelope
) -> CertificationCase:
    """The window of an award below the level applied for, and the cluster told until when, in one save."""

    def act(case: CertificationCase) -> list[RecordedAggregate]:
        opened = case.open_appeal_window(env.instant(), app.policy, *env.who())
        return outbox.queue(notices.award_appealable(case), env) if opened else []

    return app.change(case_id, CertificationCase, env, act)


def close_case(app: CertificationApp, case_id: UUID, command: commands.CloseCase, env: Envelope) -> CertificationCase:
    """The case has concluded: the cluster may open another at its level, a failed renewal ends."""
    case = app.get_case(case_id)
    cluster = app.get_cluster(case.cluster_id)
    if cluster.has_applied(env.key):
        return case
    if not case.is_concluded(env.instant()):
        raise StepNotAllowed(f"case {case_id} is still {case.state.value} and cannot be closed")
    changed: list[RecordedAggregate] = []
    cluster.close_case(case, *env.who())
    if case.previous_label_id is not None and case.state is not CaseState.AWARDED:
        previous = app.get_label(case.previous_label_id)
        if previous.renewal_case_id == case.id:
            previous.abandon_renewal(case.id, env.instant(), *env.who())
            changed.append(previous)
    app.save_once(env.key, cluster, *changed)
    return case


def freeze_report(
    app: CertificationApp, case_id: UUID, command: commands.FreezeReport, env: Envelope
) -> CertificationCase:
    def act(case: CertificationCase) -> None:
        case.freeze_report(command.sha256, command.size, *env.when())

    return app.change(case_id, CertificationCase, env, act)
