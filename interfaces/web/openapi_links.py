"""OpenAPI links: each id an answer carries, tied to the operations that take that id in their path.

A client (and a stateful test tool such as schemathesis) reads them as "after creating a case, these are
the steps on it": `POST /applications` answers `case_id`, which `GET /cases/{case_id}` and every step on
the case take. They are derived from the document itself — a response's `*_id` fields against the path
parameters of the same name — so a new route is linked without anyone listing it. An id that may be
null (`GET /me` for the machine token has no account) is no link: following it would ask for `/null`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

# The path parameter an id field feeds, where their names differ.
PARAMETER_FOR = {"label_id": "label_ref"}
# Answers whose items are named `id`: the parameter that id feeds.
ITEM_ID_PARAMETER = {"/notifications": "notification_id"}

Schema = dict[str, Any]


def install(api: FastAPI) -> None:
    """Serve /openapi.json with the links added (once: FastAPI keeps the document it built)."""
    build: Callable[[], Schema] = api.openapi

    def openapi() -> Schema:
        if api.openapi_schema is None:
            add_links(build())
        assert api.openapi_schema is not None
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def add_links(document: Schema) -> None:
    operations = list(_operations(document))
    for path, _, operation in operations:
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                continue
            ids = dict(_ids_in(document, path, response))
            links = {
                target["operationId"]: link
                for target_path, _, target in operations
                if target is not operation and (link := _link(document, target_path, target, path, ids))
            }
            if links:
                response["links"] = links


def _operations(document: Schema) -> Iterator[tuple[str, str, Schema]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def _link(document: Schema, target_path: str, target: Schema, source_path: str, ids: dict[str, str]) -> Schema:
    """The link to the target: each of its path parameters from the source's answer (or the source's own
    path), and the body fields the answer also carries; empty when a path parameter has no source, or
    when nothing comes from the answer (nothing new to follow)."""
    parameters: dict[str, str] = {}
    for name in (p["name"] for p in target.get("parameters", []) if p["in"] == "path"):
        if name in ids:
            parameters[name] = ids[name]
        elif f"{{{name}}}" in source_path:
            parameters[name] = f"$request.path.{name}"
        else:
            return {}
    body = {field: ids[field] for field in _body_fields(document, target) if field in ids}
    if not body and not any(value.startswith("$response") for value in parameters.values()):
        return {}
    # The body fields are merged into the body the client draws (schemathesis merges by default).
    return {"operationId": target["operationId"], "parameters": parameters} | ({"requestBody": body} if body else {})


def _body_fields(document: Schema, operation: Schema) -> list[str]:
    """The body's fields an answer may fill in: none of a body whose fields go together by rule (an
    account's role and the id it speaks for), where one field alone would make the body invalid."""
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    body = _resolved(document, schema) if schema else {}
    return [] if "allOf" in body else list(body.get("properties", {}))


def _ids_in(document: Schema, path: str, response: Schema) -> Iterator[tuple[str, str]]:
    """(path parameter, runtime expression) for each id the answer carries: its own fields, the first
    item's when it is a list, and the first of a listed role."""
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return
    body = _resolved(document, schema)
    if body.get("type") == "array":
        yield from _fields(document, _resolved(document, body.get("items", {})), "/0", path)
        return
    yield from _fields(document, body, "", path)
    roles = body.get("properties", {}).get("roles")
    if roles is not None and roles.get("type") == "array":
        yield "role", "$response.body#/roles/0"


def _fields(document: Schema, body: Schema, prefix: str, path: str) -> Iterator[tuple[str, str]]:
    for field, schema in body.get("properties", {}).items():
        if _nullable(document, schema):
            continue
        if field.endswith("_id"):
            yield PARAMETER_FOR.get(field, field), f"$response.body#{prefix}/{field}"
        elif field == "id" and path in ITEM_ID_PARAMETER:
            yield ITEM_ID_PARAMETER[path], f"$response.body#{prefix}/id"


def _nullable(document: Schema, schema: Schema) -> bool:
    options = schema.get("anyOf", [schema])
    return any(_resolved(document, option).get("type") == "null" for option in options)


def _resolved(document: Schema, schema: Schema) -> Schema:
    reference = schema.get("$ref")
    if reference is None:
        return schema
    found: Schema = document["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    return found
