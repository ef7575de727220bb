"""Page rendering: one Jinja environment, compiled templates, and the table view every page uses."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from rtr.report.formatting import fmt_num, fmt_pct


@dataclass(frozen=True)
class TableView:
    """A frame ready for a template: header, formatted cells (text, link) and row keys."""

    columns: list[str]
    rows: list[list[tuple[str, str | None]]]
    keys: list[str]
    source: str | None
    total: int

    @property
    def shown(self) -> int:
        return len(self.rows)


def table_view(frame: pl.DataFrame | None, *, source: str | None = None,
               key: tuple[str, ...] = (), columns: list[str] | None = None,
               links: dict[str, Callable[[Any], str | None]] | None = None,
               limit: int | None = None) -> TableView:  # fmt: skip
    """Format a frame for display; ``links`` maps a column to a function giving each cell's href."""
    if frame is None:
        return TableView([], [], [], source, 0)
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    shown = frame if limit is None else frame.head(limit)
    links = links or {}
    rows: list[list[tuple[str, str | None]]] = []
    keys: list[str] = []
    for record in shown.select(cols + [k for k in key if k not in cols]).iter_rows(named=True):
        rows.append(
            [(fmt_num(record[c]), links[c](record[c]) if c in links else None) for c in cols]
        )
        if key:
            keys.append(json.dumps({k: record[k] for k in key}, default=str))
    return TableView(cols, rows, keys, source, frame.height)


def environment() -> jinja2.Environment:
    """The Jinja environment of the report (autoescaped, strict about undefined names)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rtr.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_num
    env.filters["pct"] = fmt_pct
    return env


class PageWriter:
    """Writes pages under the site root; each page knows its relative path back to the root."""

    def __init__(self, out_dir: Path, *, site: str | None, generated: str) -> None:
        self.out_dir = out_dir
        self.env = environment()
        self.common = {"site": site, "generated": generated}
        self._templates: dict[str, jinja2.Template] = {}
        self.pages = 0

    def write(self, relative: str, template: str, **context: Any) -> Path:
        """Render ``template`` with ``context`` to ``out_dir/relative``."""
        if template not in self._templates:
            self._templates[template] = self.env.get_template(template)
        depth = relative.count("/")
        target = self.out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        html = self._templates[template].render(root="../" * depth, **self.common, **context)
        target.write_text(html, encoding="utf-8")
        self.pages += 1
        return target
