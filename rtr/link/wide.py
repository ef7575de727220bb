"""Assembly of the wide tables: lot-level measures, lot_features and infusion_product_outcome."""

import duckdb

from rtr.link.columns import (
    IDS,
    OUTCOMES,
    PATIENT,
    POST_INFUSION,
    PRODUCT,
    TREATMENT,
    FixedColumn,
)
from rtr.link.in_process import in_process_feature_columns
from rtr.link.inputs import quote_ident
from rtr.link.pivots import PivotColumn

# A categorical spec (sterility, mycoplasma, RCL "negative") is met only by that same result;
# free-text specs such as "report result" are not judged.
_OOS_SQL = """
CREATE OR REPLACE TEMP TABLE lk_oos AS
SELECT lot_id,
       coalesce(bool_or(
           value_num < spec_lower OR value_num > spec_upper
           OR (lower(trim(spec_text)) IN ('negative', 'not detected', 'absent', 'pass',
                                          'conforms', 'no growth', 'sterile')
               AND lower(trim(value_text)) <> lower(trim(spec_text)))
       ), false) AS any_result_outside_spec
FROM lk_latest_cqa
GROUP BY lot_id
"""

_LOT_WIDE_SQL = """
CREATE OR REPLACE TEMP TABLE lk_lot_wide AS
SELECT l.lot_id, l.coi_id AS lot_coi_id, l.collection_id, l.product_code, l.modality,
       l.process_version, l.manufacturing_site_id, l.start_date, l.harvest_date,
       l.release_date, l.disposition, l.doses_produced,
       c.collection_date, c.coi_id AS collection_coi_id, c.donor_id, c.material_type
FROM lk_lots AS l
LEFT JOIN lk_collections AS c ON c.collection_id = l.collection_id
"""


def _select_all_but_lot_id(alias: str, columns: list[str]) -> str:
    return "".join(f", {alias}.{quote_ident(c)}" for c in columns)


def create_lot_measures(
    conn: duckdb.DuckDBPyConnection, pivots: dict[str, tuple[str, list[PivotColumn]]]
) -> list[str]:
    """Create `lk_lot_measures` (one row per lot with any record) and `lk_lot_wide`.

    Returns the measure column names in table order. Lots that have QC or process data but no
    lot record keep their measures, so an orphan infusion still carries what is known.
    """
    conn.execute(_OOS_SQL)
    conn.execute(_LOT_WIDE_SQL)
    in_process = in_process_feature_columns()
    sources = ["lk_lots", "lk_in_process", "lk_oos"] + [t for t, _ in pivots.values()]
    all_lots = " UNION ".join(f"SELECT lot_id FROM {t}" for t in sources)
    joins = "".join(
        f" LEFT JOIN {table} AS {name} USING (lot_id)" for name, (table, _) in pivots.items()
    )
    select = "".join(
        _select_all_but_lot_id(name, [c.column for c in cols]) for name, (_, cols) in pivots.items()
    )
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE lk_lot_measures AS "
        "SELECT ids.lot_id, "
        "coalesce(l.disposition = 'released_out_of_spec', false) "
        "OR coalesce(oos.any_result_outside_spec, false) AS is_out_of_spec"
        + _select_all_but_lot_id("ip", in_process)
        + select
        + f" FROM ({all_lots}) AS ids"
        " LEFT JOIN lk_lots AS l USING (lot_id)"
        " LEFT JOIN lk_oos AS oos USING (lot_id)"
        " LEFT JOIN lk_in_process AS ip USING (lot_id)" + joins + " WHERE ids.lot_id IS NOT NULL"
    )
    return in_process + [c.column for _, cols in pivots.values() for c in cols]


def create_event_measures(
    conn: duckdb.DuckDBPyConnection, *, numeric: list[str], text: list[str]
) -> None:
    """Combine the lots of each infusion event into `lk_event_measures`.

    Several lots given together (CD4 + CD8) form one product: numeric measures are averaged,
    text takes the first lot's value, the product is out of specification if any lot is.
    """
    aggregates = [f"avg(m.{quote_ident(c)}) AS {quote_ident(c)}" for c in numeric] + [
        f"first(m.{quote_ident(c)} ORDER BY i.lot_id) FILTER (WHERE m.{quote_ident(c)} IS NOT NULL)"
        f" AS {quote_ident(c)}"
        for c in text
    ]
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE lk_event_measures AS "
        "SELECT i.subject_id, i.infusion_date, max(l.release_date) AS release_date, "
        "bool_or(m.is_out_of_spec) AS is_out_of_spec"
        + "".join(", " + a for a in aggregates)
        + " FROM lk_infusion_lots AS i"
        " LEFT JOIN lk_lot_measures AS m USING (lot_id)"
        " LEFT JOIN lk_lots AS l USING (lot_id)"
        " GROUP BY i.subject_id, i.infusion_date"
    )


def _fixed(columns: list[FixedColumn]) -> list[str]:
    return [f"{c.expr} AS {quote_ident(c.name)}" for c in columns]


def _measured(columns: list[str]) -> list[str]:
    return [f"m.{quote_ident(c)}" for c in columns]


def infusion_product_outcome_sql(
    *, sm: list[str], process: list[str], cqa: list[str], in_process: list[str]
) -> str:
    """Return the SELECT of linked.infusion_product_outcome (columns in published order)."""
    select = (
        _fixed(IDS)
        + _fixed(PATIENT)
        + _measured(sm)
        + _fixed(TREATMENT)
        + _fixed(PRODUCT)
        + _measured(process)
        + _measured(cqa)
        + _measured(in_process)
        + _fixed(OUTCOMES)
        + _fixed(POST_INFUSION)
    )
    return (
        "SELECT " + ",\n       ".join(select) + "\nFROM lk_events AS e"
        " LEFT JOIN lk_subjects AS s USING (subject_id)"
        " LEFT JOIN lk_lot_wide AS p ON p.lot_id = e.lot_id"
        " LEFT JOIN lk_event_measures AS m USING (subject_id, infusion_date)"
        " LEFT JOIN lk_outcomes AS o USING (subject_id, infusion_date)"
        " ORDER BY e.subject_id, e.infusion_date"
    )


def lot_features_sql(
    *, cqa: list[str], in_process: list[str], process: list[str], sm: list[str]
) -> str:
    """Return the SELECT of linked.lot_features (one row per lot record).

    Besides the CQAs and in-process features, each lot carries its process parameters and
    starting-material results and the dates of its chain (collection, first infusion): the
    manufacturing outcomes (release failure, yield, turnaround) are analysed per lot,
    including lots never infused.
    """
    measured = "".join(f", m.{quote_ident(c)}" for c in cqa + in_process + process + sm)
    return (
        "SELECT p.lot_id, p.product_code, p.modality, p.manufacturing_site_id, p.process_version,"
        " p.start_date, p.harvest_date, p.release_date, p.disposition,"
        " m.is_out_of_spec" + measured + ", p.collection_id, p.collection_date, p.doses_produced,"
        " (SELECT min(i.infusion_date) FROM lk_infusion_lots AS i WHERE i.lot_id = p.lot_id)"
        " AS first_infusion_date"
        " FROM lk_lot_wide AS p"
        " LEFT JOIN lk_lot_measures AS m USING (lot_id) ORDER BY p.lot_id"
    )
