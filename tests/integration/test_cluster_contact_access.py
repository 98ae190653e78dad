"""A cluster contact sees everything of their own cluster and nothing of another, which answers as an
unknown id does. Contacts have no tokens yet, so the access functions are called directly, on the
Services a server builds (a SQLite store and its read models); HTTP tests come with the accounts."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.account import Role
from clusterlabel.domain.invoice import invoice_id_for
from clusterlabel.interfaces.web.access import own_cases, visible_case, visible_cluster, visible_label
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.schemas import CaseFilters
from clusterlabel.interfaces.web.services import Services
from clusterlabel.projections.factory import open_read_models
from tests.lifecycle import Clock, Lifecycle
from tests.stores import sqlite_env, sqlite_services


@dataclass
class Cluster:
    cluster_id: UUID
    case_id: UUID
    label_id: UUID


@dataclass
class Office:
    svc: Services
    ours: Cluster
    theirs: Cluster

    @property
    def contact(self) -> Principal:
        return Principal(frozenset({Role.CLUSTER}), cluster_id=self.ours.cluster_id)


def labelled_cluster(app: CertificationApp, country: str) -> Cluster:
    life = Lifecycle(app, country=country)
    case_id, label_id = life.labelled()
    return Cluster(life.cluster_id, case_id, label_id)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    folder = tmp_path_factory.mktemp("contact")
    app = CertificationApp(env=sqlite_env(folder), clock=Clock())
    ours, theirs = labelled_cluster(app, "LT"), labelled_cluster(app, "FR")
    models = open_read_models(sqlite_env(folder), app)
    models.catch_up()
    svc = sqlite_services(folder, app, models, "contact-tests")
    yield Office(svc, ours, theirs)
    svc.close_stores()
    models.close()
    app.close()


def test_a_cluster_contact_sees_their_cluster_its_case_its_label_and_its_whole_history(office: Office) -> None:
    ours, svc = office.ours, office.svc
    assert visible_case(svc, ours.case_id, office.contact).id == ours.case_id
    assert visible_label(svc, ours.label_id, office.contact).id == ours.label_id
    seen = visible_cluster(svc, ours.cluster_id, office.contact)
    assert seen.records is None
    history = svc.models.cluster_history(ours.cluster_id, seen.records)
    everything = {ours.cluster_id, ours.case_id, ours.label_id, invoice_id_for(ours.case_id)}  # and its invoice
    assert {entry.aggregate_id for entry in history} == everything


def test_another_clusters_records_answer_a_contact_as_unknown_ids_do(office: Office) -> None:
    theirs, nobody = office.theirs, uuid.uuid4()
    see: list[tuple[Callable[..., Any], UUID]] = [
        (visible_case, theirs.case_id),
        (visible_label, theirs.label_id),
        (visible_cluster, theirs.cluster_id),
    ]
    for visible, hidden in see:
        with pytest.raises(ApiError) as seen:
            visible(office.svc, hidden, office.contact)
        with pytest.raises(ApiError) as unknown:
            visible(office.svc, nobody, office.contact)
        assert seen.value.status == unknown.value.status == 404
        assert str(seen.value.detail).replace(str(hidden), "ID") == str(unknown.value.detail).replace(str(nobody), "ID")


def test_a_cluster_contact_lists_only_their_own_clusters_cases(office: Office) -> None:
    svc, ours = office.svc, office.ours
    filters = own_cases(CaseFilters(), office.contact)
    assert [case.case_id for case in svc.models.cases(svc.now(), **filters.model_dump())] == [ours.case_id]
    with pytest.raises(ApiError) as refused:
        own_cases(CaseFilters(cluster_id=office.theirs.cluster_id), office.contact)
    assert refused.value.status == 403
