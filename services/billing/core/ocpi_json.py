"""OCPI objects as JSON text with exact decimal numbers (pure).

The standard library writes a Decimal only as a string or through a float; an OCPI price is
a JSON number, and 0.1 must stay 0.1. Read with ``json.loads(text, parse_float=Decimal)``.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from ocppj.timestamps import rfc3339


def dumps(value: object) -> str:
    """``value`` (dicts, lists, text, numbers, Decimals, datetimes, None) as compact JSON; a
    datetime is RFC 3339 text.

    Raises:
        TypeError: something JSON cannot hold; ValueError: a NaN or an infinity.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return str(value)  # always a JSON number: 0.1, 1.00, 1E+3, -0
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return json.dumps(value, allow_nan=False)
    if isinstance(value, datetime):
        return json.dumps(rfc3339(value))
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(f"{type(value).__name__} is not JSON")
