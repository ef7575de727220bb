"""SDTM BE (biospecimen events) onto collections, joined to the CDMO's lots by the collection id."""

from pathlib import Path

import polars as pl
import pytest

from tests.adapters.conftest import EXTERNAL
from tests.adapters.landing import csv_text, ingest_files

PHARMAVERSE = EXTERNAL / "pharmaversesdtm"


def test_pharmaversesdtm_be_collection_events_become_collections_at_the_subjects_site(
    tmp_path: Path,
) -> None:
    be = pl.read_csv(PHARMAVERSE / "be.csv", infer_schema=False)
    collected = be.filter(pl.col("BECAT") == "COLLECTION")
    got = ingest_files(
        tmp_path,
        {
            "be.csv": (PHARMAVERSE / "be.csv").read_bytes(),
            "dm.csv": (PHARMAVERSE / "dm.csv").read_bytes(),
        },
    )
    r = got.result("be.csv")
    assert (r.rows_read, r.rows_accepted, r.tables) == (be.height, be.height, "collections")
    stored = got.query("SELECT * FROM core.collections ORDER BY collection_id")
    assert stored["collection_id"].to_list() == sorted(collected["BEREFID"].to_list())
    dm = pl.read_csv(PHARMAVERSE / "dm.csv", infer_schema=False).select("USUBJID", "SITEID")
    expected = collected.join(dm, on="USUBJID").select("BEREFID", "SITEID").sort("BEREFID")
    assert stored.select("collection_id", "collection_site_id").rows() == expected.rows()
    assert set(stored["material_type"]) == {"other"}  # skin biopsies: not a cell-therapy material
    notes = got.rows("SELECT notes FROM audit.loads WHERE file LIKE '%be.csv'")[0][0]
    assert "CULTURE (15), PREPARATION (18)" in notes


@pytest.fixture
def apheresis(tmp_path: Path):
    be = pl.DataFrame(
        {
            "STUDYID": ["CART-01"] * 3,
            "DOMAIN": ["BE"] * 3,
            "USUBJID": ["P1", "P1", "P2"],
            "BESEQ": ["1", "2", "1"],
            "BEREFID": ["COL-0001", "COL-0001-A", "COL-0002"],
            "BETERM": ["Leukapheresis collection", "Cryopreservation", "Specimen Collection"],
            "BECAT": ["COLLECTION", "PROCESSING", "COLLECTION"],
            "BELOC": ["PERIPHERAL BLOOD (APHERESIS)", None, "BONE MARROW"],
            "BESTDTC": ["2024-01-10T08:00", "2024-01-10T14:00", "2024-02"],
        }
    )
    suppbe = pl.DataFrame(
        {
            "STUDYID": ["CART-01"],
            "RDOMAIN": ["BE"],
            "USUBJID": ["P1"],
            "IDVAR": ["BESEQ"],
            "IDVARVAL": ["1"],
            "QNAM": ["COIID"],
            "QLABEL": ["Chain of identity"],
            "QVAL": ["W4011 24 000001"],
        }
    )
    return ingest_files(
        tmp_path, {"biospecimens.csv": csv_text(be), "suppbe.csv": csv_text(suppbe)}
    )


def test_an_apheresis_collection_carries_its_chain_of_identity_id(apheresis) -> None:
    rows = apheresis.rows(
        "SELECT collection_id, coi_id, subject_id, material_type, collection_date::VARCHAR, _imputed "
        "FROM core.collections ORDER BY 1"
    )
    assert rows == [
        ("COL-0001", "W4011 24 000001", "P1", "leukapheresis", "2024-01-10", None),
        (
            "COL-0002",
            None,
            "P2",
            "bone_marrow",
            "2024-02-01",
            "collection_date: day imputed as 01 (sent 2024-02)",
        ),
    ]
    assert apheresis.result("suppbe.csv").rows_quarantined == 0


def test_the_cdmo_lot_made_from_the_collection_joins_it(apheresis, tmp_path: Path) -> None:
    lots = (
        "lot_id,coi_id,collection_id,product_code,modality,disposition\n"
        "LOT-1,W4011 24 000001,COL-0001,CART-CD19-41BB,autologous_car_t,released\n"
    )
    got = ingest_files(tmp_path, {"lots.csv": lots}, delivery="cdmo", sender="manufacturing")
    chain = got.rows(
        "SELECT l.lot_id, c.subject_id, c.coi_id = l.coi_id FROM core.lots l "
        "JOIN core.collections c USING (collection_id)"
    )
    assert chain == [("LOT-1", "P1", True)]
