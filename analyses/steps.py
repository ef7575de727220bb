"""Declared analysis steps: each names its inputs, the published tables it writes, its settings.

`analyses.run.STEPS` lists them in order; `run_all` is a loop over that list. Adding an
analysis is one new module that defines a `Step` and one line in that list.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl

from analyses.config import AnalysisConfig
from analyses.design import Array, Design, build_design, first_infusions
from analyses.guards import Skip, check_outcome_size
from analyses.outcomes import Outcome, available_outcomes, lot_clusters
from analyses.toxicity import add_onset_days

# What a step may read besides the tables of earlier steps.
SOURCES = ("cohort", "catalog", "lots", "specs", "adverse_events")
# The AnalysisConfig section a step's own settings live in ("general": the top-level fields).
SETTINGS = ("general", "groups", "toxicity", "manufacturing")


@dataclass(frozen=True)
class PlannedOutcome:
    """An outcome with enough patients and events to analyse, and its own seed."""

    outcome: Outcome
    seed: int

    @property
    def rows(self) -> Array:
        """Patients with the outcome recorded."""
        return self.outcome.present.astype(bool)


@dataclass
class StepContext:
    """Everything a step can read: the inputs, derived frames computed once, earlier results."""

    data: pl.DataFrame
    catalog: pl.DataFrame
    lots: pl.DataFrame | None
    specs: pl.DataFrame | None
    adverse_events: pl.DataFrame | None
    cfg: AnalysisConfig
    seed: int
    run_id: str
    results: dict[str, pl.DataFrame] = field(default_factory=dict)
    skips: list[Skip] = field(default_factory=list)

    @cached_property
    def cohort(self) -> pl.DataFrame:
        """First infusions, with days to CRS/ICANS onset when adverse events are given."""
        return add_onset_days(
            first_infusions(self.data),
            self.adverse_events,
            window_days=self.cfg.toxicity.onset_window_days,
        )

    @cached_property
    def design(self) -> Design:
        """The encoded patient-level features (features left out are recorded as skipped)."""
        design = build_design(self.cohort, self.catalog, self.cfg)
        self.skips += design.skipped
        return design

    @cached_property
    def clusters(self) -> Array | None:
        """Lot of each patient when patients share lots (allogeneic), else None."""
        return lot_clusters(self.cohort)

    @cached_property
    def outcomes(self) -> list[PlannedOutcome]:
        """Outcomes that pass the size guards; the k-th outcome present gets seed + 1000 k."""
        found, missing = available_outcomes(self.cohort)
        height = self.cohort.height
        self.skips += [
            Skip(name, "all", "outcome not present in the data", height, None) for name in missing
        ]
        planned = []
        for k, outcome in enumerate(found):
            rows = outcome.present.astype(bool)
            n, events = int(rows.sum()), outcome.events(rows)
            min_events = self.cfg.min_events
            guard = check_outcome_size(
                outcome.name,
                "all",
                n=n,
                events=events,
                min_n=self.cfg.min_n,
                min_events=min_events if outcome.type in ("binary", "ordinal") else 0,
            )
            if guard is None and events < min_events:
                guard = Skip(
                    outcome.name, "all", f"only {events} events (minimum {min_events})", n, events
                )
            if guard is not None:
                self.skips.append(guard)
                continue
            planned.append(PlannedOutcome(outcome, self.seed + 1000 * k))
        return planned

    @cached_property
    def cqas(self) -> list[str]:
        """Final-product CQAs of the catalog."""
        return self.catalog.filter(pl.col("feature_kind") == "cqa")["feature"].to_list()

    @cached_property
    def lot_frame(self) -> pl.DataFrame:
        """One row per lot: the given lot table, else the first row per lot of the cohort data.

        Derived from the cohort, it holds only infused lots (no rejected ones).
        """
        return self.lots if self.lots is not None else lots_from_cohort(self.data, self.catalog)

    def of_type(self, *types: str) -> list[PlannedOutcome]:
        """The planned outcomes of the given types, in order."""
        return [p for p in self.outcomes if p.outcome.type in types]

    def table(self, name: str) -> pl.DataFrame:
        """A table an earlier step produced (the step order guarantees it exists)."""
        return self.results[name]


def lots_from_cohort(data: pl.DataFrame, catalog: pl.DataFrame) -> pl.DataFrame:
    """One row per lot from the linked frame, when no separate lot table is given."""
    lot_level = {"lot_id", "manufacturing_site_id", "process_version", "release_date",
                 "collection_date", "disposition", "is_out_of_spec", "modality", "product_code"}  # fmt: skip
    process_side = catalog.filter(
        pl.col("feature_kind").is_in(["cqa", "process_parameter"])
        | pl.col("source").fill_null("").str.starts_with("quality_results:starting_material")
    )["feature"].to_list()
    keep = [c for c in data.columns if c in lot_level or c in process_side]
    if "lot_id" not in keep:
        return pl.DataFrame()
    return data.select(keep).unique(subset="lot_id", keep="first", maintain_order=True)


@dataclass(frozen=True)
class Step:
    """One analysis: the inputs it reads, the published tables it writes, its settings section."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    settings: str
    run: Callable[[StepContext], dict[str, pl.DataFrame]]


def check_steps(steps: tuple[Step, ...], published: tuple[str, ...]) -> None:
    """Refuse a step list whose inputs come later, whose outputs repeat or are not published."""
    made: set[str] = set()
    for step in steps:
        if step.settings not in SETTINGS:
            raise ValueError(f"step {step.name}: unknown settings section {step.settings!r}")
        for name in step.inputs:
            if name not in SOURCES and name not in made:
                raise ValueError(f"step {step.name} reads {name}, which no earlier step writes")
        for name in step.outputs:
            if name in made or name not in published:
                raise ValueError(
                    f"step {step.name} writes {name}: already written or not a published "
                    "analysis table (add it to schemas.published.ANALYSIS_TABLES)"
                )
            made.add(name)


def concat_or_empty(frames: list[pl.DataFrame], schema: Mapping[str, Any]) -> pl.DataFrame:
    """Stack frames of one schema; an empty frame of that schema when there are none."""
    return pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=schema)
