"""How numbers, dates and ids are written on the pages (one place, so tests can read them back)."""

import datetime as dt
import hashlib
import math
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def fmt_num(value: object, digits: int = 3) -> str:
    """A number with ``digits`` significant digits (integers as they are); empty for missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value == 0:
            return "0"
        if abs(value) >= 1e6 or abs(value) < 1e-3:
            return f"{value:.{digits - 1}e}"
        decimals = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
        return f"{value:.{decimals}f}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def fmt_pct(value: float | None) -> str:
    """A proportion (0-1) as a percentage with one decimal; empty for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{100 * value:.1f} %"


def slug(identifier: str) -> str:
    """A file-name-safe, stable, unique name for an id (ids may hold '/', spaces or accents)."""
    safe = _UNSAFE.sub("_", identifier)
    if safe == identifier and safe not in ("", ".", ".."):
        return safe
    digest = hashlib.sha1(identifier.encode("utf-8")).hexdigest()[:8]
    return f"{safe[:60]}-{digest}"


def fmt_spec(low: float | None, high: float | None, text: str | None = None) -> str:
    """A specification as people write it: '70.0 - 100', '>= 70.0', '<= 5.00' or its text."""
    if low is not None and high is not None:
        return f"{fmt_num(low)} - {fmt_num(high)}"
    if low is not None:
        return f">= {fmt_num(low)}"
    if high is not None:
        return f"<= {fmt_num(high)}"
    return text or ""
