"""SDV's single-table metadata, read to set column kinds and written from a fitted table.

The format (``METADATA_SPEC_VERSION: SINGLE_TABLE_V1``)::

    {"columns": {"age": {"sdtype": "numerical", "computer_representation": "Int64"},
                 "plan": {"sdtype": "categorical"},
                 "signup": {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"},
                 "customer": {"sdtype": "id"}},
     "primary_key": "customer", "METADATA_SPEC_VERSION": "SINGLE_TABLE_V1"}

A multi-table file holding one table (``{"tables": {"name": {...}}}``, SDV's ``Metadata``)
is read as that table. Sdtypes map to kinds: ``numerical`` -> ``integer`` (an ``Int``
representation) or ``continuous``, ``categorical``, ``boolean``, ``datetime``, ``id``; the
primary key and any other sdtype (``email``, ``phone_number``, ...: values SDV anonymises)
-> ``id``, regenerated and never modelled, so no real value of theirs is copied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganforge.errors import ConfigError

VERSION = "SINGLE_TABLE_V1"
_KINDS = {
    "categorical": "categorical",
    "boolean": "boolean",
    "datetime": "datetime",
    "id": "id",
}


def read_metadata(source: Any) -> dict[str, Any]:
    """The single-table metadata in ``source``: a dict, a JSON file's path, or an object
    with ``to_dict()`` (SDV's metadata classes)."""
    if hasattr(source, "to_dict") and not isinstance(source, dict):
        source = source.to_dict()
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            source = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read metadata {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise ConfigError(f"metadata {path} is not JSON ({exc})") from None
    if not isinstance(source, dict):
        raise ConfigError(
            f"metadata must be a dict or a JSON file's path; got {type(source).__name__}"
        )
    tables = source.get("tables")
    if isinstance(tables, dict):
        if len(tables) != 1:
            raise ConfigError(
                f"the metadata describes {len(tables)} tables ({', '.join(tables)}); give "
                "one table's metadata"
            )
        source = next(iter(tables.values()))
    if not isinstance(source.get("columns"), dict):
        raise ConfigError('metadata needs a "columns" mapping: {"name": {"sdtype": ...}}')
    return source


def kinds_from_metadata(
    metadata: dict[str, Any], columns: list[str], detected: dict[str, str]
) -> dict[str, str]:
    """Column -> kind for the columns the metadata names; ``detected`` (the kinds found in
    the data) decides integer / continuous where a numerical column says neither."""
    described = metadata["columns"]
    unknown = [c for c in described if c not in columns]
    if unknown:
        raise ConfigError(
            f"the metadata names columns the table lacks: {', '.join(map(repr, unknown))}; "
            f"its columns are {', '.join(columns)}"
        )
    kinds = {}
    for name, spec in described.items():
        sdtype = str((spec or {}).get("sdtype", "")).lower()
        if not sdtype:
            raise ConfigError(f"metadata column {name!r} has no sdtype")
        if sdtype == "numerical":
            kinds[name] = _numerical_kind(spec, detected.get(name))
        else:
            kinds[name] = _KINDS.get(sdtype, "id")
    key = metadata.get("primary_key")
    for name in [key] if isinstance(key, str) else list(key or []):
        if name not in columns:
            raise ConfigError(f"the metadata's primary_key {name!r} is not a column")
        kinds[name] = "id"
    return kinds


def _numerical_kind(spec: dict[str, Any], detected: str | None) -> str:
    representation = str(spec.get("computer_representation", "")).lower()
    if representation.startswith(("int", "uint")):
        return "integer"
    if representation.startswith("float"):
        return "continuous"
    return detected if detected in ("integer", "continuous") else "continuous"


def metadata_from_kinds(kinds: dict[str, str]) -> dict[str, Any]:
    """SDV single-table metadata for columns of these kinds (the first ``id`` column is
    the primary key)."""
    columns: dict[str, dict[str, str]] = {}
    for name, kind in kinds.items():
        if kind == "integer":
            columns[name] = {"sdtype": "numerical", "computer_representation": "Int64"}
        elif kind == "continuous":
            columns[name] = {"sdtype": "numerical", "computer_representation": "Float"}
        else:
            columns[name] = {"sdtype": kind}
    out: dict[str, Any] = {"columns": columns}
    keys = [n for n, k in kinds.items() if k == "id"]
    if keys:
        out["primary_key"] = keys[0]
    out["METADATA_SPEC_VERSION"] = VERSION
    return out
