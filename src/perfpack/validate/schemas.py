"""perfpack's JSON Schemas, loaded once into a `referencing` registry so `$ref`s resolve offline."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.resources import pack_root

SCHEMA_NAMES = ("agent", "command", "plugin", "hooks", "triggers")
BASE_URI = "https://perfpack.dev/schemas/"


@lru_cache(maxsize=1)
def _registry() -> tuple[Any, dict[str, dict]]:
    from referencing import Registry, Resource

    schemas: dict[str, dict] = {}
    for name in SCHEMA_NAMES:
        path = pack_root() / "schemas" / f"{name}.schema.json"
        try:
            schemas[name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PerfpackError(f"cannot load schema {path}: {exc}", hint="reinstall perfpack") from None
    registry = Registry().with_resources(
        (f"{BASE_URI}{name}.schema.json", Resource.from_contents(schema)) for name, schema in schemas.items())
    return registry, schemas


def schema(name: str) -> dict:
    return _registry()[1][name]


@lru_cache(maxsize=None)
def validator(name: str) -> Any:
    """A compiled Draft 2020-12 validator for schema `name`, built once per process."""
    from jsonschema import Draft202012Validator

    registry, schemas = _registry()
    return Draft202012Validator(schemas[name], registry=registry)


def known_keys(name: str) -> tuple[str, ...]:
    return tuple(schema(name).get("properties", {}))
