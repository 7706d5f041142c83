"""The OCA JSON schemas in the ocpp package, compiled with fastjsonschema (reads package files)."""

import json
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any

import fastjsonschema

from tools.simulator.payloads import Version

DIRECTORIES = {Version.V16: "v16/schemas", Version.V201: "v201/schemas"}


def schema_name(version: Version, action: str, *, response: bool) -> str:
    """1.6 names a request ``Action.json``, 2.0.1 ``ActionRequest.json``."""
    if response:
        return f"{action}Response"
    return action if version is Version.V16 else f"{action}Request"


@cache
def _validator(version: Version, name: str) -> Callable[[Any], Any] | None:
    path = files("ocpp").joinpath(DIRECTORIES[version], f"{name}.json")
    if not path.is_file():
        return None
    validate: Callable[[Any], Any] = fastjsonschema.compile(json.loads(path.read_text()))
    return validate


def violation(version: Version, name: str, payload: dict[str, Any]) -> str | None:
    """Why ``payload`` breaks schema ``name``; None if it is valid."""
    if (validate := _validator(version, name)) is None:
        return f"no schema {name} in OCPP {version}"
    try:
        validate(payload)
    except fastjsonschema.JsonSchemaException as exc:
        return f"{name}: {exc}"
    return None
