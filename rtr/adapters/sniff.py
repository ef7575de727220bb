"""Cheap tests on a file's name and first bytes that several formats' detectors share."""

from rtr.adapters.interface import Sniff


def csv_separator(header_line: str) -> str:
    """The separator of a CSV header line: ',' unless ';' or a tab clearly splits it instead.

    Excel in a decimal-comma locale (much of Europe) writes ';'-separated "CSV".
    """
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def csv_header(sniff: Sniff) -> set[str]:
    """The upper-case column names of a CSV's first line, whatever its separator."""
    first = sniff.first_line
    return {h.strip().strip('"').upper() for h in first.split(csv_separator(first))}


def is_json_lines(sniff: Sniff) -> bool:
    """An NDJSON file: by its extension, or a ``.json`` whose first lines are separate JSON objects."""
    text = sniff.text
    return sniff.suffix in (".ndjson", ".jsonl") or (
        sniff.suffix == ".json" and "\n{" in text and not text.startswith("{\n")
    )


def is_json_document(sniff: Sniff) -> bool:
    """A JSON document: by its extension or its first character."""
    return sniff.suffix == ".json" or sniff.text.startswith("{")


def xpt_member_names(head: bytes) -> list[str]:
    """Dataset names in a SAS XPORT header (v5 'DSCRPTR', v8 'DSCPTV8': 'SAS     <name>' follows)."""
    names = []
    for marker, width in ((b"DSCRPTR HEADER RECORD", 8), (b"DSCPTV8 HEADER RECORD", 32)):
        start = head.find(marker)
        while start != -1:
            # Header records are 80 bytes; the descriptor record after this one starts with
            # 'SAS     ' and then the member name.
            record = head[start - 20 + 80 : start - 20 + 160]
            if record.startswith(b"SAS     "):
                names.append(
                    record[8 : 8 + width].decode("ascii", errors="replace").strip().upper()
                )
            start = head.find(marker, start + 1)
    return names
