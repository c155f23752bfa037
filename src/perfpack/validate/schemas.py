"""perfpack's JSON Schemas, loaded once into a `referencing` registry so `$ref`s resolve offline."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.resources import pack_root

SCHEMA_NAMES = ("agent", "command", "plugin", "hooks", "triggers")
BASE_URI = "https://perfpack.dev/schemas/"


@lru_cache(maxsize=1)
def _schemas() -> dict[str, dict]:
    schemas: dict[str, dict] = {}
    for name in SCHEMA_NAMES:
        path = pack_root() / "schemas" / f"{name}.schema.json"
        try:
            schemas[name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PerfpackError(f"cannot load schema {path}: {exc}", hint="reinstall perfpack") from None
    return schemas


@lru_cache(maxsize=1)
def _registry() -> tuple[Any, dict[str, dict]]:
    # jsonschema and referencing cost ~90 ms to import: only needed once a file is (probably) invalid
    from referencing import Registry, Resource

    schemas = _schemas()
    registry = Registry().with_resources(
        (f"{BASE_URI}{name}.schema.json", Resource.from_contents(schema)) for name, schema in schemas.items())
    return registry, schemas


def schema(name: str) -> dict:
    return _schemas()[name]


@lru_cache(maxsize=None)
def validator(name: str) -> Any:
    """A compiled Draft 2020-12 validator for schema `name`, built once per process."""
    from jsonschema import Draft202012Validator

    registry, schemas = _registry()
    return Draft202012Validator(schemas[name], registry=registry)


def known_keys(name: str) -> tuple[str, ...]:
    return tuple(schema(name).get("properties", {}))


class _Unsupported(Exception):
    """The quick check met a keyword it does not implement: let jsonschema decide."""


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}
_ANNOTATIONS = {"description", "title", "$schema", "$id", "$defs", "$comment", "default", "examples"}


def _quick_valid(value: Any, sub: Any, root: dict, registry_schemas: dict[str, dict]) -> bool:
    """A small, exact subset of JSON Schema 2020-12, ~20x faster than jsonschema on valid data.

    Only says "valid" when every keyword met is implemented; anything else raises _Unsupported.
    """
    if sub is True:
        return True
    if sub is False:
        return False
    for key, expected in sub.items():
        if key in _ANNOTATIONS:
            continue
        if key == "type":
            kinds = expected if isinstance(expected, list) else [expected]
            if not any(_TYPES[k](value) for k in kinds):
                return False
        elif key == "enum":
            if not any(value == option and type(value) is type(option) for option in expected):
                return False
        elif key == "const":
            if not (value == expected and type(value) is type(expected)):
                return False
        elif key == "pattern":
            if isinstance(value, str) and not re.search(expected, value):
                return False
        elif key in ("minLength", "maxLength"):
            if isinstance(value, str) and (len(value) < expected if key == "minLength" else len(value) > expected):
                return False
        elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if _TYPES["number"](value):
                if key == "minimum" and value < expected or key == "maximum" and value > expected:
                    return False
                if key == "exclusiveMinimum" and value <= expected or key == "exclusiveMaximum" and value >= expected:
                    return False
        elif key in ("minProperties", "minItems"):
            if isinstance(value, (dict if key == "minProperties" else list)) and len(value) < expected:
                return False
        elif key == "required":
            if isinstance(value, dict) and any(name not in value for name in expected):
                return False
        elif key == "properties":
            if isinstance(value, dict):
                for name, prop in expected.items():
                    if name in value and not _quick_valid(value[name], prop, root, registry_schemas):
                        return False
        elif key == "additionalProperties":
            if isinstance(value, dict):
                known = sub.get("properties", {})
                if "patternProperties" in sub:
                    raise _Unsupported(key)
                for name, item in value.items():
                    if name not in known and not _quick_valid(item, expected, root, registry_schemas):
                        return False
        elif key == "propertyNames":
            if isinstance(value, dict) and not all(_quick_valid(n, expected, root, registry_schemas) for n in value):
                return False
        elif key == "items":
            if isinstance(value, list) and not all(_quick_valid(i, expected, root, registry_schemas) for i in value):
                return False
        elif key in ("anyOf", "oneOf", "allOf"):
            results = [_quick_valid(value, option, root, registry_schemas) for option in expected]
            passed = sum(results)
            if (key == "anyOf" and not passed) or (key == "oneOf" and passed != 1) or (key == "allOf" and passed != len(results)):
                return False
        elif key == "if":
            branch = "then" if _quick_valid(value, expected, root, registry_schemas) else "else"
            if branch in sub and not _quick_valid(value, sub[branch], root, registry_schemas):
                return False
        elif key in ("then", "else"):
            continue
        elif key == "$ref":
            target_root, _, fragment = expected.partition("#")
            document = registry_schemas[target_root] if target_root else root
            target = document
            for part in [p for p in fragment.split("/") if p]:
                target = target[part]
            if not _quick_valid(value, target, document, registry_schemas):
                return False
        else:
            raise _Unsupported(key)
    return True


@lru_cache(maxsize=1)
def _by_uri() -> tuple[dict[str, dict], dict[str, dict]]:
    schemas_by_name = _schemas()
    return schemas_by_name, {f"{BASE_URI}{n}.schema.json": s for n, s in schemas_by_name.items()}


def quick_valid(name: str, data: Any) -> bool | None:
    """True/False from the quick check, None when it cannot decide (for tests comparing with jsonschema)."""
    schemas_by_name, by_uri = _by_uri()
    try:
        return _quick_valid(data, schemas_by_name[name], schemas_by_name[name], by_uri)
    except (_Unsupported, KeyError, TypeError, RecursionError):
        return None


def iter_errors(name: str, data: Any) -> list[Any]:
    """Schema errors for `data`; valid data is recognised by the quick check without jsonschema."""
    schemas_by_name, by_uri = _by_uri()
    try:
        if _quick_valid(data, schemas_by_name[name], schemas_by_name[name], by_uri):
            return []
    except (_Unsupported, KeyError, TypeError, RecursionError):
        pass
    try:
        return list(validator(name).iter_errors(data))
    except RecursionError:
        return []


def preload() -> None:
    """Load the schemas before worker processes fork, so each does not re-read them."""
    _by_uri()
