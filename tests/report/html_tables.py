"""Read the data tables of a report page back: table source, row key and cell text per column."""

import json
from html.parser import HTMLParser
from pathlib import Path


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self._source: str | None = None
        self._table_id: str | None = None
        self._row: dict | None = None
        self._col: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._source = a.get("data-table")
            self._table_id = a.get("id")
        elif tag == "tr" and self._source:
            self._row = {"source": self._source, "table_id": self._table_id,
                         "key": json.loads(a["data-key"]) if a.get("data-key") else None,
                         "cells": {}}  # fmt: skip
        elif tag == "td" and self._row is not None:
            self._col, self._text = a.get("data-col"), []

    def handle_data(self, data: str) -> None:
        if self._col is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._col is not None:
            self._row["cells"][self._col] = "".join(self._text).strip()
            self._col = None
        elif tag == "tr" and self._row is not None:
            if self._row["cells"]:
                self.rows.append(self._row)
            self._row = None
        elif tag == "table":
            self._source = None


def table_rows(page: Path) -> list[dict]:
    """Every data row of every table with a data-table source: {'source', 'table_id', 'key', 'cells'}."""
    parser = _Tables()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.rows
