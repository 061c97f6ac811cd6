"""What every declaration model shares: strict, frozen models, and errors that name the file and the field."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from p06 import config

YearMonth = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
"""A report month, 'YYYY-MM' (quoted or not in YAML: 2025-07 reads as text)."""

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
"""A lower-case id such as a measure or unit kind: letters, digits, underscores."""


class Declared(BaseModel):
    """A declared thing: an unknown (misspelt) field is an error, and nothing changes it once read."""
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True)


class DeclarationError(ValueError):
    """A declaration file that does not validate; the message has one line per mistake, naming file and field."""


M = TypeVar("M", bound=BaseModel)
_ID_KEYS = ("id", "code", "source", "key", "unit_kind")
_MESSAGES = {"extra_forbidden": "unknown field (misspelt, or not a field here)"}


def shown(path: Path | str) -> str:
    """A file as messages name it: relative to the repository when it lies inside."""
    path = Path(path)
    try:
        return path.resolve().relative_to(config.REPO_DIR).as_posix()
    except ValueError:
        return str(path)


def _where(loc: tuple, data: Any) -> str:
    """'measures[2] (eid_target).requried' from pydantic's loc, naming list entries by their id."""
    text, node = "", data
    for key in loc:
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
            ident = next((node[k] for k in _ID_KEYS if isinstance(node, dict) and node.get(k)), None)
            text += f"[{key}]" + (f" ({ident})" if ident else "")
        elif isinstance(node, dict) and key not in node and node.get("kind") == key:
            continue                                    # the tag of a discriminated union, not a field
        else:
            node = node.get(key) if isinstance(node, dict) else None
            text += f".{key}" if text else str(key)
    return text


def describe(exc: ValidationError, where: str, data: Any) -> DeclarationError:
    """One line per error: '<file>: <field path>: <what is wrong>'."""
    lines = []
    for err in exc.errors():
        msg = _MESSAGES.get(err["type"], err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        field = _where(tuple(err["loc"]), data)
        if err["type"] == "union_tag_invalid":              # an unknown kind: name the field and the choices
            ctx = err["ctx"]
            field = f"{field}.{ctx['discriminator'].strip(chr(39))}" if field else ctx["discriminator"].strip("'")
            msg = f"unknown value {ctx['tag']!r}; expected one of {ctx['expected_tags']}"
        lines.append(f"{where}: {field}: {msg}" if field else f"{where}: {msg}")
    return DeclarationError("\n".join(lines))


def validate(model: type[M], data: Any, where: str, context: dict | None = None) -> M:
    """`model` from `data`, or a DeclarationError naming `where` (a file) and each faulty field."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise describe(exc, where, data) from None


def read_yaml(path: Path) -> Any:
    """A YAML file's content (C loader when available); an unreadable file names itself."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as exc:
        raise DeclarationError(f"{shown(path)}: not valid YAML: {exc}") from None


def validate_file(model: type[M], path: Path, context: dict | None = None, extra: dict | None = None) -> M:
    """Read a YAML file (a mapping) and validate it as `model`; `extra` adds fields the loader computes."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise DeclarationError(f"{shown(path)}: expected a mapping of fields, found {type(data).__name__}")
    return validate(model, {**data, **(extra or {})}, shown(path), context)
