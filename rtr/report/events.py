"""Every dated step of every patient's chain, as one long frame built once (subject_id, date, label, kind)."""

import polars as pl

from rtr.report.warehouse import WarehouseSnapshot

_SCHEMA = {"subject_id": pl.String, "date": pl.Date, "label": pl.String, "kind": pl.String}


def _part(frame: pl.DataFrame, date: str, label: pl.Expr, kind: str) -> pl.DataFrame | None:
    if frame.height == 0 or date not in frame.columns or "subject_id" not in frame.columns:
        return None
    return frame.filter(pl.col(date).is_not_null()).select(
        pl.col("subject_id").cast(pl.String),
        pl.col(date).cast(pl.Date).alias("date"),
        label.cast(pl.String).fill_null(kind).alias("label"),
        pl.lit(kind).alias("kind"),
    )


def _col(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String) if name in frame.columns else pl.lit("")


def chain_events(snap: WarehouseSnapshot) -> pl.DataFrame:
    """Collection, manufacture, release, infusion, responses, toxicities and follow-up per patient."""
    linked = snap.rows("linked.infusion_product_outcome")
    parts: list[pl.DataFrame | None] = []
    collections = snap.rows("core.collections")
    if collections.height:
        parts.append(_part(collections, "collection_date",
                           pl.concat_str(pl.lit("collection "), _col(collections, "material_type")),
                           "collection"))  # fmt: skip
    elif "collection_date" in linked.columns:
        parts.append(_part(linked, "collection_date", pl.lit("collection"), "collection"))
    infusions = snap.rows("core.infusions")
    lots = snap.rows("core.lots")
    if infusions.height and lots.height:
        made = infusions.select("subject_id", "lot_id").unique().join(lots, on="lot_id")
        lot = pl.col("lot_id")
        parts.append(_part(made, "start_date", pl.concat_str(pl.lit("manufacture start "), lot),
                           "manufacturing"))  # fmt: skip
        parts.append(_part(made, "harvest_date", pl.concat_str(pl.lit("harvest "), lot),
                           "manufacturing"))  # fmt: skip
        parts.append(_part(made, "release_date", pl.concat_str(pl.lit("release "), lot, pl.lit(" "),
                           _col(made, "disposition")), "release"))  # fmt: skip
    elif "release_date" in linked.columns:
        parts.append(_part(linked, "release_date",
                           pl.concat_str(pl.lit("release "), pl.col("lot_id")), "release"))  # fmt: skip
    source = infusions if infusions.height else linked
    if "infusion_date" in source.columns:
        parts.append(_part(source, "infusion_date",
                           pl.concat_str(pl.lit("infusion "), pl.col("lot_id")), "infusion"))  # fmt: skip
    responses = snap.rows("core.responses")
    if responses.height:
        best = (
            pl.when(pl.col("is_best_overall").fill_null(False))
            .then(pl.lit(" (best)"))
            .otherwise(pl.lit(""))
            if "is_best_overall" in responses.columns
            else pl.lit("")
        )
        parts.append(_part(responses, "assessment_date",
                           pl.concat_str(pl.lit("response "), _col(responses, "response"), best),
                           "response"))  # fmt: skip
    adverse = snap.rows("core.adverse_events")
    if adverse.height:
        parts.append(_part(adverse, "onset_date", pl.concat_str(_col(adverse, "ae_term"),
                           pl.lit(" grade "), _col(adverse, "grade")), "toxicity"))  # fmt: skip
    follow = snap.rows("core.follow_up")
    for column, label in (("progression_date", "progression"), ("death_date", "death"),
                          ("last_known_alive_date", "last follow-up (alive)")):  # fmt: skip
        parts.append(_part(follow, column, pl.lit(label), "follow_up"))
    frames = [p.cast(_SCHEMA) for p in parts if p is not None]  # type: ignore[arg-type]
    if not frames:
        return pl.DataFrame(schema=_SCHEMA)
    events = pl.concat(frames)
    # A patient who died has no "last follow-up (alive)": the date a dead patient was last known
    # alive is the death itself, and showing both reads as a contradiction.
    dead = events.filter(pl.col("label") == "death").select("subject_id")
    alive = pl.col("label") == "last follow-up (alive)"
    events = pl.concat([events.filter(~alive), events.filter(alive).join(dead, on="subject_id",
                        how="anti")])  # fmt: skip
    # Stable order for steps of one day (chain order), so a rebuild of unchanged data is identical.
    return events.unique(maintain_order=True).sort("subject_id", "date", maintain_order=True)
