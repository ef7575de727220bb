"""Decoding of text files: UTF-8 first, then the declared or detected legacy encoding."""

from pathlib import Path

from charset_normalizer import from_bytes

from rtr.adapters.interface import RefusedFile
from schemas.rules import EMPTY_FILE, UNDECODABLE

# cp1252 is what SAS on Windows writes by default (the CDISC pilot's ts.xpt); latin-1 decodes
# anything and is only a last resort, so it is never tried before a real detection.
LEGACY_FALLBACKS = ("cp1252",)


def decode_bytes(raw: bytes, *, source: Path, declared: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used): UTF-8 (BOM tolerated), then ``declared``, then detection."""
    if not raw.strip():
        raise RefusedFile(
            EMPTY_FILE, f"{source.name} has no content; send the file again with its rows"
        )
    tried = ["utf-8-sig"]
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = [e for e in (declared,) if e]
    best = from_bytes(raw).best()
    if best is not None and best.encoding:
        candidates.append(best.encoding)
    candidates.extend(LEGACY_FALLBACKS)
    for enc in candidates:
        tried.append(enc)
        try:
            return raw.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    raise RefusedFile(
        UNDECODABLE,
        f"{source.name} is not UTF-8 and no legacy encoding fits (tried {', '.join(tried)}); "
        "export it as UTF-8 and re-send",
    )


def read_text(path: Path, *, declared: str | None = None) -> tuple[str, str]:
    """Read and decode a whole text file; see :func:`decode_bytes`."""
    return decode_bytes(path.read_bytes(), source=path, declared=declared)
