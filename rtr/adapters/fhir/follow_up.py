"""FHIR R4 -> follow_up: one row per Patient from its death record and its dated clinical activity.

- ``death_date``: Patient.deceasedDateTime, else a VRDR death-date Observation (LOINC 81956-5).
  A partial date is imputed to the 1st (``rtr.adapters.dates``) but never before a clinical
  activity inside the sent period (the patient was alive then). ``deceasedBoolean: true`` with
  no date anywhere is quarantined (``missing_value``): censoring a known death at the last visit
  would flatter overall survival, and dropping the death silently would hide it.
- ``last_known_alive_date``: the latest date of clinical activity not after death (Encounter
  period, Observation/DiagnosticReport/MedicationAdministration effective, Procedure performed,
  Immunization occurrence, Specimen collection, AdverseEvent date). Death-certificate records and
  resources that did not happen (planned, cancelled, entered-in-error...) are no activity.
  A dead patient without earlier activity is known alive until death.
- ``progression_date``: the first progression after the first CAR-T infusion in the delivery
  (before it, progression is why the patient was treated): a response Observation mapping to PD
  (PD, PMD...), or an mCODE disease status (LOINC 97509-4 / 88040-1) valued SNOMED 271299001
  "Patient's condition worsened". Without an infusion, the earliest progression.
- ``death_cause``: a coded cause-of-death Observation (LOINC 69453-9) only, as
  ``display (system code)``; free text is never stored.

The rows are derived (``_derived``): the Patient record they name in ``_line`` is already counted
once by its subjects row. Patients with nothing to say (no activity, no death) get no row.
"""

import polars as pl

from rtr.adapters.common import DERIVED, finish, join_notes, reject_when
from rtr.adapters.dates import iso_date
from rtr.adapters.fhir.evidence import Evidence, Row, gather
from rtr.adapters.fhir.map import infusion_starts
from rtr.adapters.interface import IMPUTED, LINE
from schemas.rules import AMBIGUOUS_DATE, MISSING_VALUE
from schemas.tables import TABLES


def _pairs(pairs: list[tuple[str, str]], name: str) -> pl.DataFrame:
    return pl.DataFrame(pairs, schema={"subject_id": pl.String, name: pl.String}, orient="row")


def _dated(pairs: list[tuple[str, str]]) -> pl.DataFrame:
    """(subject_id, _d, _note): ISO dates of the pairs; values that are not ISO 8601 are dropped."""
    parts = iso_date("_raw", target="last_known_alive_date")
    return (
        _pairs(pairs, "_raw")
        .with_columns(parts.value.alias("_d"), parts.note.alias("_note"))
        .filter(pl.col("_d").is_not_null())
    )


def follow_up_frame(
    patients: list[tuple[int, Row]], context: list[Row]
) -> tuple[pl.DataFrame, list[str]]:
    """follow_up rows (contract columns, ``_line`` = the Patient's locator, derived) and notes."""
    found = gather(context)
    people = pl.DataFrame(
        [
            (
                loc,
                p.get("id"),
                p.get("deceasedDateTime") if isinstance(p.get("deceasedDateTime"), str) else None,
                p.get("deceasedBoolean"),
            )
            for loc, p in patients
        ],
        schema={LINE: pl.Int64, "subject_id": pl.String, "_sent": pl.String, "_flag": pl.Boolean},
        orient="row",
    )
    obs_death = _pairs(found.death_dates, "_obs_death").group_by("subject_id").agg(pl.all().min())
    people = people.join(obs_death, on="subject_id", how="left").with_columns(
        # Patient.deceased[x] speaks first: a deceasedBoolean false outweighs a death-date Observation.
        pl.when(pl.col("_sent").is_not_null())
        .then(pl.col("_sent"))
        .when(pl.col("_flag").fill_null(True))
        .then(pl.col("_obs_death"))
        .alias("_death_raw"),
    )
    death = iso_date("_death_raw", target="death_date")
    people = people.with_columns(
        death.value.alias("_death0"),
        death.note.alias("_death_note"),
        death.bad.alias("_death_bad"),
        (pl.col("_flag").fill_null(False) | pl.col("_death_raw").is_not_null()).alias("_dead"),
        pl.when(pl.col("_death_raw").str.len_chars().is_in([4, 7]))
        .then(pl.col("_death_raw"))
        .alias("_period"),
        pl.when(pl.col("_sent").is_null() & pl.col("_death_raw").is_not_null())
        .then(pl.lit("death_date: from the death-date Observation (LOINC 81956-5)"))
        .alias("_death_src"),
    )
    activity = _dated(found.activity).join(
        people.select("subject_id", "_death0", "_period"), on="subject_id"
    )
    # A partial death date is not earlier than activity inside the sent period.
    seen = (
        activity.filter(
            pl.col("_period").is_not_null() & pl.col("_d").str.starts_with(pl.col("_period"))
        )
        .group_by("subject_id")
        .agg(pl.col("_d").max().alias("_seen_in_period"))
    )
    people = people.join(seen, on="subject_id", how="left").with_columns(
        pl.max_horizontal("_death0", "_seen_in_period").alias("death_date"),
        pl.when(pl.col("_seen_in_period") > pl.col("_death0"))
        .then(pl.lit("death_date: raised to the last clinical activity inside the sent period"))
        .alias("_raised"),
    )
    people = people.join(_last_alive(activity, people), on="subject_id", how="left")
    people = people.join(_progression(found, context), on="subject_id", how="left")
    causes = _pairs(found.causes, "death_cause").group_by("subject_id", maintain_order=True).first()
    people = people.join(causes, on="subject_id", how="left")
    return _assemble(people)


def _last_alive(activity: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """Latest activity not after death per patient, its imputation note, and activity after death."""
    dated = activity.join(people.select("subject_id", "death_date"), on="subject_id")
    before = pl.col("death_date").is_null() | (pl.col("_d") <= pl.col("death_date"))
    eligible = dated.filter(before).sort(["_d", pl.col("_note").is_null()])
    return (
        eligible.group_by("subject_id")
        .agg(pl.col("_d").last().alias("_lka"), pl.col("_note").last().alias("_lka_note"))
        .join(
            dated.filter(~before).group_by("subject_id").len("_after"),
            on="subject_id",
            how="full",
            coalesce=True,
        )
    )


def _progression(found: Evidence, context: list[Row]) -> pl.DataFrame:
    """First progression after the first CAR-T infusion (the earliest one when none is known)."""
    starts = infusion_starts(context)
    first = _pairs(list(starts.items()), "_infused")
    parts = iso_date("_raw", target="progression_date")
    dated = (
        _pairs(found.progression, "_raw")
        .with_columns(parts.value.alias("_d"), parts.note.alias("_note"))
        .filter(pl.col("_d").is_not_null())
        .join(first, on="subject_id", how="left")
    )
    after = pl.col("_infused").is_null() | (pl.col("_d") > pl.col("_infused"))
    return (
        dated.sort(["_d", pl.col("_note").is_not_null()])
        .group_by("subject_id")
        .agg(
            pl.col("_d").filter(after).first().alias("progression_date"),
            pl.col("_note").filter(after).first().alias("_prog_note"),
            (~after).sum().alias("_prog_before"),
            pl.col("_infused").first(),
        )
    )


def _assemble(people: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Contract columns, reject columns and notes; patients with nothing to say are left out."""
    for c, dtype in (("_lka", pl.String), ("_lka_note", pl.String), ("_after", pl.UInt32)):
        if c not in people.columns:
            people = people.with_columns(pl.lit(None, dtype).alias(c))
    has_something = (
        pl.col("_lka").is_not_null() | pl.col("_dead") | pl.col("progression_date").is_not_null()
    )
    silent = people.filter(~has_something).height
    frame = people.filter(has_something).with_columns(
        # Dead with no earlier activity: alive until death (nothing later can be known).
        pl.coalesce("_lka", "death_date").alias("last_known_alive_date"),
    )
    frame = frame.with_columns(
        pl.when(pl.col("_dead")).then(pl.col("death_cause")).alias("death_cause"),
        join_notes(
            pl.col("_death_src"),
            pl.col("_death_note"),
            pl.col("_raised"),
            pl.col("_lka_note"),
            pl.when(pl.col("_lka").is_null() & pl.col("death_date").is_not_null()).then(
                pl.lit(
                    "last_known_alive_date: no clinical activity before death; set to death_date"
                )
            ),
            pl.when(pl.col("_after") > 0).then(
                pl.lit("last_known_alive_date: ")
                + pl.col("_after").cast(pl.String)
                + " activity dates after death_date not used"
            ),
            pl.col("_prog_note"),
            pl.when(pl.col("_prog_before") > 0).then(
                pl.lit("progression_date: ")
                + pl.col("_prog_before").cast(pl.String)
                + " progression records on or before the first CAR-T infusion ("
                + pl.col("_infused")
                + ") not used"
            ),
            pl.when(pl.col("progression_date").is_not_null() & pl.col("_infused").is_null()).then(
                pl.lit("progression_date: no CAR-T infusion in the delivery; earliest progression")
            ),
        ).alias(IMPUTED),
        pl.lit(True).alias(DERIVED),
        *reject_when(
            [
                (
                    pl.col("_death_bad"),
                    AMBIGUOUS_DATE,
                    "Patient.deceasedDateTime is not an ISO 8601 date",
                    "death_date",
                    pl.col("_death_raw"),
                ),
                (
                    pl.col("_dead") & pl.col("death_date").is_null(),
                    MISSING_VALUE,
                    "Patient.deceasedBoolean is true but no death date was sent: without its date "
                    "the death cannot enter overall survival; send Patient.deceasedDateTime "
                    "(a partial date such as 2024-05 is accepted)",
                    "death_date",
                    pl.lit("deceasedBoolean=true"),
                ),
                (
                    pl.col("last_known_alive_date").is_null(),
                    MISSING_VALUE,
                    "no ISO 8601 dated clinical activity (Encounter, Observation, Procedure...) "
                    "for this patient; send the patient's encounters or a follow_up row",
                    "last_known_alive_date",
                    pl.lit(None, pl.String),
                ),
            ]
        ),
    )
    notes = [f"FHIR: {frame.height} follow_up rows derived from Patient and clinical activity"]
    if silent:
        notes.append(
            f"FHIR: {silent} patients without dated clinical activity or death: no follow_up row"
        )
    return finish(frame, TABLES["follow_up"].column_names), notes
