"""Minimal valid OCPP requests, built from the JSON schemas the ocpp wheel ships (tests)."""

import json
from functools import cache
from importlib.resources import files
from typing import Any

from ocppj.versions import OcppVersion

TIMESTAMP = "2026-11-25T08:00:00.000Z"
_DIRS = {OcppVersion.V16: ("v16", ""), OcppVersion.V201: ("v201", "Request")}


@cache
def _schema(version: OcppVersion, action: str) -> dict[str, Any]:
    folder, suffix = _DIRS[version]
    text = (
        files("ocpp").joinpath(folder, "schemas", f"{action}{suffix}.json").read_text("utf-8-sig")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def _instance(node: dict[str, Any], definitions: dict[str, Any]) -> Any:
    if "$ref" in node:
        return _instance(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object":
        properties = node.get("properties", {})
        return {name: _instance(properties[name], definitions) for name in node.get("required", [])}
    if kind == "array":
        return [_instance(node["items"], definitions) for _ in range(node.get("minItems", 0))]
    if kind == "string":
        return TIMESTAMP if node.get("format") == "date-time" else "x"
    if kind in ("integer", "number"):
        return node.get("minimum", 1)
    if kind == "boolean":
        return False
    raise AssertionError(f"no sample for {node}")


def minimal_request(version: OcppVersion, action: str) -> dict[str, Any]:
    """A request of ``action`` with only its required fields (first enum values, 1, "x")."""
    schema = _schema(version, action)
    sample: dict[str, Any] = _instance(schema, schema.get("definitions", {}))
    return sample
