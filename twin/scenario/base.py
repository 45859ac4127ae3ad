"""The base of every scenario and sweep section: frozen, unknown fields are errors, numbers are real.

Every number must be finite (NaN and infinities are refused by every field) and no larger in
size than :data:`MAX_MAGNITUDE` (seeds excepted: they are names, not quantities): no quantity of the model comes near it (a 25-million city eats
5e7 kg a day), and larger numbers overflow the model's arithmetic into infinities and NaN.
Fields that count or size something have their own, tighter upper bounds.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["MAX_MAGNITUDE", "Spec", "check_numbers"]

MAX_MAGNITUDE = 1e12


def check_numbers(value: Any, path: str = "") -> None:
    """Raise ``ValueError("<path>: ...")`` for a NaN, an infinity or a number above :data:`MAX_MAGNITUDE`
    anywhere in ``value`` (lists and tables are searched; tables of other sections check themselves).

    >>> check_numbers({"a": [1.0, float("nan")]})
    Traceback (most recent call last):
    ...
    ValueError: a[1]: must be a finite number, got nan
    """
    if isinstance(value, bool):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path}: must be a finite number, got {value}")
    if isinstance(value, (int, float)) and abs(value) > MAX_MAGNITUDE and not path.endswith("seed"):  # ids, not sizes
        raise ValueError(f"{path}: must be at most {MAX_MAGNITUDE:.0e} in size, got {value:.3g}")
    if isinstance(value, dict):
        for k, v in value.items():
            check_numbers(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_numbers(v, f"{path}[{i}]")


class Spec(BaseModel):
    """Base of every scenario section: frozen, unknown fields are errors, numbers finite and bounded."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _finite_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if not isinstance(value, dict) or key not in cls.model_fields or _is_plain_table(cls, key):
                    check_numbers(value, str(key))
        return data


def _is_plain_table(cls: type[BaseModel], key: str) -> bool:
    """A field that is a dict of numbers (not a section with its own validation)."""
    ann = cls.model_fields[key].annotation
    return getattr(ann, "__origin__", None) is dict
