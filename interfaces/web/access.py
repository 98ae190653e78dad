"""Who may see which record: every read and every step of a case, a label or a cluster asks here.

The secretariat sees every record. An expert sees their own record, the cases they are proposed for, on
the team of or were on (Principal.on_case), the labels those cases issued, and of a cluster only the cases
they are proposed for or on the team of now, and their labels (the case status view follows the current
team). A cluster contact sees everything of their own cluster.

A record the caller may not see answers exactly as an unknown id does (404, `no case with id X`): a 403
would tell whoever holds a token which ids exist. A step only another role takes still answers 403
before the record is looked at, for every id alike, so it tells nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from clusterlabel.domain.base import NotFound
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.expert import Expert
from clusterlabel.domain.label import Label
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.schemas import CaseFilters, HistoryEvent
from clusterlabel.interfaces.web.services import Services

R = TypeVar("R")
EVERY_CASE = 1_000_000  # the case status view's list limit, for "all of them"


def not_found(kind: str, record_id: UUID) -> ApiError:
    """The one answer for an id the caller may not see, whether or not a record has it."""
    return ApiError(404, f"no {kind} with id {record_id}")


def visible_case(svc: Services, case_id: UUID, principal: Principal) -> CertificationCase:
    case = _load(svc.app.get_case, "case", case_id)
    if not principal.on_case(case):
        raise not_found("case", case_id)
    return case


def reads_evidence(who: Principal, case: CertificationCase) -> bool:
    """The secretariat, the case's cluster and the experts on its team (not one only proposed, nor one released)."""
    return who.sees_everything or who.speaks_for(case.cluster_id) or who.expert_id in case.team


def holds_the_case(history: Sequence[HistoryEvent], case_id: UUID) -> bool:
    """Whether a history read by a case's id holds that case's own events: for the secretariat, who sees
    every case, proof enough that it exists (an unknown id, or another record's, holds none)."""
    return any(event.aggregate_id == case_id and event.aggregate == CertificationCase.__name__ for event in history)


def visible_label(svc: Services, label_id: UUID, principal: Principal) -> Label:
    """A label is seen by whoever sees the case that issued it; an imported one (no case) by the
    secretariat and the cluster's contacts."""
    label = _load(svc.app.get_label, "label", label_id)
    if principal.sees_everything:
        return label
    if label.case_id is None:
        seen = principal.speaks_for(label.cluster_id)
    else:
        seen = principal.on_case(svc.app.get_case(label.case_id))
    if not seen:
        raise not_found("label", label_id)
    return label


def public_label(svc: Services, label_id: UUID) -> Label:
    """A label as its certificate shows it to anyone: the certificate is made to be shown."""
    return _load(svc.app.get_label, "label", label_id)


def visible_expert(svc: Services, expert_id: UUID, principal: Principal) -> Expert:
    """An expert's record (and workload) is the secretariat's and the expert's own."""
    if not principal.sees_everything and principal.expert_id != expert_id:
        raise not_found("expert", expert_id)
    return _load(svc.app.get_expert, "expert", expert_id)


@dataclass(frozen=True)
class SeenCluster:
    """A cluster and which of its records the caller sees: `records` are the cases and labels whose
    events they read, None for every record of the cluster and the cluster's own; `team_cases` the cases
    whose team the caller sits on (an expert: their assessment is theirs to read before the decision)."""

    cluster: Cluster
    records: frozenset[UUID] | None
    team_cases: frozenset[UUID] = frozenset()

    def shows(self, record_id: UUID) -> bool:
        return self.records is None or record_id in self.records


def visible_cluster(svc: Services, cluster_id: UUID, principal: Principal) -> SeenCluster:
    """The cluster, if the caller sees it whole (the secretariat, its contact) or sees one of its cases."""
    cluster = _load(svc.app.get_cluster, "cluster", cluster_id)
    if principal.sees_everything or principal.speaks_for(cluster_id):
        return SeenCluster(cluster, None)
    seen = _experts_records(svc, principal, cluster)
    if not seen.records:
        raise not_found("cluster", cluster_id)
    return seen


def _experts_records(svc: Services, principal: Principal, cluster: Cluster) -> SeenCluster:
    """The cluster's cases the expert is on (as the case status view has them, by Principal.on_case's
    rule), the labels those cases issued, and which of the cases have the expert on their team.

    Never the cluster's own records: its CaseOpened and CaseClosed events name every case of the
    cluster, and who audited each. Its registration and profile are harmless, but they stay out too,
    to be safe: an expert reads the profile from GET /clusters/{id}."""
    if principal.expert_id is None:
        return SeenCluster(cluster, frozenset())
    svc.fresh()
    cases = svc.models.cases(svc.now(), cluster_id=cluster.id, expert_id=principal.expert_id, limit=EVERY_CASE)
    records = frozenset([case.case_id for case in cases] + [case.label_id for case in cases if case.label_id])
    return SeenCluster(
        cluster, records, frozenset(case.case_id for case in cases if principal.expert_id in case.expert_ids)
    )


def own_cases(filters: CaseFilters, principal: Principal) -> CaseFilters:
    """A list's filters narrowed to the cases the caller may see. Asking for another expert's or
    cluster's is 403, whatever the id names, so it tells nothing. An account that is both an expert and
    a cluster's contact lists its own cluster's cases when it asks for them, else the cases it is on."""
    if principal.sees_everything:
        return filters
    if principal.speaks_for(filters.cluster_id) and filters.expert_id is None:
        return filters
    if principal.expert_id is not None:
        if filters.expert_id not in (None, principal.expert_id):
            raise ApiError(403, "an expert may list only their own cases")
        return filters.model_copy(update={"expert_id": principal.expert_id})
    if principal.cluster_id is not None:
        if filters.cluster_id not in (None, principal.cluster_id):
            raise ApiError(403, "a cluster contact may list only their own cluster's cases")
        return filters.model_copy(update={"cluster_id": principal.cluster_id})
    raise ApiError(403, "this token may not list cases")


def _load(get: Callable[[UUID], R], kind: str, record_id: UUID) -> R:
    """The record, or the same 404 a hidden one answers (the store's own message names the class)."""
    try:
        return get(record_id)
    except NotFound:
        raise not_found(kind, record_id) from None
