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


def table_view(
    frame: pl.DataFrame | None,
    *,
    source: str | None = None,
    key: tuple[str, ...] = (),
    columns: list[str] | None = None,
    links: dict[str, Callable[[Any], str | None]] | None = None,
    limit: int | None = None,
) -> TableView:
    """Format a frame for display; ``links`` maps a column to a function giving each cell's href."""
    if frame is None:
        return TableView([], [], [], source, 0)
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    key = tuple(k for k in key if k in frame.columns)
    if source and not key:
        # Without a natural key, each row carries its position in the source table, so every
        # shown number can be traced back to its warehouse row.
        frame = frame.with_row_index("_row")
        key = ("_row",)
    shown = frame if limit is None else frame.head(limit)
    records = shown.select(cols + [k for k in key if k not in cols]).to_dicts()
    view = records_view(records, columns=cols, source=source, key=key, links=links)
    return TableView(view.columns, view.rows, view.keys, source, frame.height)


def records_view(
    records: list[dict[str, Any]],
    *,
    columns: list[str],
    source: str | None = None,
    key: tuple[str, ...] = (),
    links: dict[str, Callable[[Any], str | None]] | None = None,
) -> TableView:
    """Format rows already partitioned per page (a list of dicts) for display."""
    links = links or {}
    rows = [
        [(fmt_num(r.get(c)), links[c](r.get(c)) if c in links else None) for c in columns]
        for r in records
    ]
    keys = [json.dumps({k: r.get(k) for k in key}, default=str) for r in records] if key else []
    return TableView(columns, rows, keys, source, len(records))


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
