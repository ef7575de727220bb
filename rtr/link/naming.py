"""Column names for codes that arrive as data (parameter and test codes become wide columns)."""

import logging
import re
from collections.abc import Iterable

logger = logging.getLogger(__name__)

_NOT_IDENT = re.compile(r"[^0-9a-z]+")
# Split camelCase words only before a capitalised word, so `pH` stays `ph`.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")


def sanitise_identifier(code: str) -> str:
    """Return `code` as a snake_case SQL identifier (`CAR+ %` -> `car_pct`, `IL2` -> `il2`)."""
    text = _CAMEL.sub("_", code.strip()).replace("%", " pct ").replace("+", " pos ")
    name = _NOT_IDENT.sub("_", text.lower()).strip("_")
    if not name:
        name = "code"
    if name[0].isdigit():
        name = "x_" + name
    return name


def assign_column_names(
    codes: Iterable[str], *, prefix: str = "", taken: set[str], source: str
) -> dict[str, str]:
    """Map each code to a unique column name, reserving it in `taken`.

    Two codes that sanitise to the same name (or a name already used by a fixed column)
    would silently overwrite each other in a pivot; the later one gets a numbered suffix
    and the collision is logged so the vocabulary gap can be fixed at the source.
    """
    mapping: dict[str, str] = {}
    for code in sorted(codes):
        base = prefix + sanitise_identifier(code)
        name = base
        n = 2
        while name in taken:
            name = f"{base}_{n}"
            n += 1
        if name != base:
            logger.warning(
                "column name collision: %s code %r would be column %r, which is taken; "
                "written as %r (rename the code at the source to avoid this)",
                source,
                code,
                base,
                name,
            )
        taken.add(name)
        mapping[code] = name
    return mapping
