"""Text from a sender made safe to print and store: control and bidi characters escaped.

A file name or value may carry a line break that forges another terminal line, an escape
sequence that rewrites the screen, a right-to-left override that makes ``lots.csv.exe`` read
``lots.exe.csv``, or bytes that are not UTF-8 at all (Linux file names are bytes; Python
hands them over as lone surrogates, which neither a terminal nor DuckDB accepts).
"""

import re

import polars as pl

# C0 controls, DEL, C1 controls, and the Unicode format characters that change how text
# around them is displayed: bidi embeddings, overrides and isolates, marks, zero-width
# characters, line and paragraph separators, BOM; lone surrogates (undecodable bytes).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)

CONTROL_IN_VALUES = [
    chr(c)
    for c in (
        *range(0x00, 0x09),
        0x0B,
        0x0C,
        *range(0x0E, 0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    )
]
"""Characters a delivered value must not hold: C0 controls except tab, line feed and carriage
return (multi-line comments are genuine), DEL, C1 controls, and bidi marks and overrides."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str) -> str:
    """``text`` with every control, bidi or undecodable character written as an escape."""
    return _UNSAFE.sub(_escape, text)


def shown_keeping_lines(text: str) -> str:
    """:func:`shown`, but line breaks and tabs kept (reasons quoting multi-line reader errors)."""
    return "\n".join("\t".join(shown(p) for p in line.split("\t")) for line in text.split("\n"))


_ESCAPES = [_escape(m) for m in (_UNSAFE.match(c) for c in CONTROL_IN_VALUES) if m is not None]


def shown_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`shown` as a polars expression for the characters of :data:`CONTROL_IN_VALUES`."""
    return expr.str.replace_many(CONTROL_IN_VALUES, _ESCAPES)
