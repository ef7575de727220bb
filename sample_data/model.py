"""Data classes returned by the sample-data generator: deliveries, planted effects, the cohort."""

from dataclasses import dataclass, field
from typing import Literal

import polars as pl

EffectKind = Literal["direct", "mediated", "null", "decoy", "group"]
DeliveryKind = Literal["manufacturing", "clinical"]


@dataclass(frozen=True)
class Delivery:
    """One folder a sender drops into the landing zone: tables in the sender's own units."""

    kind: DeliveryKind
    delivery_id: str
    tables: dict[str, pl.DataFrame]
    formats: dict[str, str]  # table name -> 'csv' | 'parquet' | 'xlsx'


@dataclass(frozen=True)
class PlantedEffect:
    """One relation written into the generating model (or deliberately left out of it).

    `log_effect_per_sd` is the log odds ratio (binary outcomes) or log hazard ratio (pfs/os)
    per standard deviation of the feature on the scale named in `note`; for a categorical
    level or a patient group it is the shift for membership; None when it has no single size.
    `reference` is the level a categorical level is compared with.
    """

    feature: str
    outcome: str
    kind: EffectKind
    log_effect_per_sd: float | None
    note: str
    reference: str | None = None


@dataclass
class Cohort:
    """A generated cohort: canonical tables, deliveries as senders send them, and the truth."""

    seed: int
    tables: dict[str, pl.DataFrame]
    deliveries: list[Delivery]
    truth: pl.DataFrame
    planted: list[PlantedEffect]
    poor_response_group: dict[str, object]
    allogeneic_lot_effects: pl.DataFrame = field(default_factory=pl.DataFrame)
    # Effects on the lot outcomes (release_failure, fold_expansion), per lot not per patient.
    planted_lot_effects: list[PlantedEffect] = field(default_factory=list)
