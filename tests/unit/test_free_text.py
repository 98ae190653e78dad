"""Free text refuses control characters at the boundary, by field, and the contract says so."""

from __future__ import annotations

import re
import sys
import unicodedata
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from clusterlabel.domain.cluster import ClusterProfile
from clusterlabel.domain.commands import COMMANDS, RecordDecision
from clusterlabel.domain.expert import ExpertProfile
from clusterlabel.domain.text import Prose, Text
from clusterlabel.interfaces.web import schemas
from tests.builders import cluster_profile

CONTROLS = [chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cc"]
LINE_BREAKS_AND_TABS = {"\t", "\n", "\r"}
BODIES = [
    model
    for model in vars(schemas).values()
    if isinstance(model, type) and issubclass(model, BaseModel) and model.__name__.endswith("In")
]
MODELS = [ClusterProfile, ExpertProfile, *COMMANDS.values(), *BODIES]


def _refuses(kind: Any, text: str) -> bool:
    try:
        TypeAdapter(kind).validate_python(text)
    except ValidationError:
        return True
    return False


def test_one_line_of_text_refuses_every_control_character_and_nothing_printable() -> None:
    assert [control for control in CONTROLS if not _refuses(Text, f"a{control}b")] == []
    assert not _refuses(Text, "Ġdańsk Maritime Cluster - ÆØÅ 北京 🚢")


def test_prose_keeps_line_breaks_and_tabs_and_refuses_every_other_control_character() -> None:
    kept = [control for control in CONTROLS if not _refuses(Prose, f"a{control}b")]
    assert set(kept) == LINE_BREAKS_AND_TABS
    assert not _refuses(Prose, "Findings:\r\n\t1. governance\n\t2. finance")


def test_the_declared_pattern_accepts_and_refuses_exactly_what_is_enforced() -> None:
    for kind in (Text, Prose):
        pattern = re.compile(TypeAdapter(kind).json_schema()["pattern"])
        for control in CONTROLS:
            assert (pattern.fullmatch(f"a{control}b") is None) == _refuses(kind, f"a{control}b"), (kind, control)


def test_a_nul_in_a_cluster_name_is_refused_naming_the_field_and_the_character() -> None:
    with pytest.raises(ValidationError) as refused:
        cluster_profile(name="Baltic\x00Maritime")
    (error,) = refused.value.errors()
    assert error["loc"] == ("name",)
    assert "name must not contain control characters: found U+0000 NULL at character 7" in error["msg"]


def test_a_rationale_with_an_escape_says_that_only_line_breaks_and_tabs_are_allowed() -> None:
    with pytest.raises(ValidationError) as refused:
        RecordDecision(outcome="award", rationale="Good.\n\x1b[31mred")
    (error,) = refused.value.errors()
    assert error["loc"] == ("rationale",)
    assert "only line breaks and tabs are allowed" in error["msg"] and "U+001B ESCAPE" in error["msg"]


def _string_schemas(schema: dict[str, Any], definitions: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    """Every string in a model's JSON schema (through lists, optionals and nested models), by path."""
    if "$ref" in schema:
        return _string_schemas(definitions[schema["$ref"].rpartition("/")[2]], definitions, path)
    found = []
    if schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
        found.append((path, schema))
    for option in schema.get("anyOf", []):
        found += _string_schemas(option, definitions, path)
    if "items" in schema:
        found += _string_schemas(schema["items"], definitions, f"{path}[]")
    for name, field in schema.get("properties", {}).items():
        found += _string_schemas(field, definitions, f"{path}.{name}")
    return found


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_free_text_field_of_every_command_profile_and_body_declares_the_pattern(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    strings = _string_schemas(schema, schema.get("$defs", {}), model.__name__)
    # The country is checked against the ISO list, which no control character is in.
    undeclared = [path for path, string in strings if "pattern" not in string and not path.endswith(".country")]
    assert undeclared == []


def test_a_cluster_recorded_with_a_control_character_before_the_rule_still_loads() -> None:
    from clusterlabel.domain.cluster import Cluster

    recorded = {**cluster_profile().model_dump(mode="json"), "name": "Tab\tand\x00NUL"}
    assert Cluster(recorded, actor="secretariat", command_key="k").name == "Tab\tand\x00NUL"
