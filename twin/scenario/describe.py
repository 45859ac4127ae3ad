"""Every scenario field with its default and source: ``twin fields`` prints them.

Dotted paths are the ones ``--set`` and sweep files use (lists show as ``[i]``).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from pydantic import BaseModel

from twin.scenario.loading import inner_model
from twin.scenario.schema import Scenario

__all__ = ["field_rows"]


def field_rows(model: type[BaseModel] = Scenario, prefix: str = "") -> Iterator[dict[str, Any]]:
    """One row per leaf field: ``path``, ``type``, ``default`` and ``description`` (with its source).

    >>> next(r for r in field_rows() if r["path"] == "city.population")["default"]
    25000000
    """
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        inner = inner_model(field.annotation)
        if inner is not None:
            suffix = "[i]." if _is_list(field.annotation) else "."
            yield from field_rows(inner, path + suffix)
            continue
        required = field.is_required()
        default = None if required else field.get_default(call_default_factory=True)
        yield {"path": path, "type": _type_name(field.annotation), "default": "(required)" if required else _plain(default),
               "description": field.description or ""}


def _is_list(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is list


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "")


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)
