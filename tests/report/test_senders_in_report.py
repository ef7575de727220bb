"""Reports and senders: a site's report shows no record another site's sender wrote for it, and the
data-quality page says whether a registry judged the loads, and what senders corrected."""

import hashlib
import json
import re
from pathlib import Path

from rtr.ingest.run import ingest_path
from rtr.report import build_site

REGISTRY = """
senders:
  - id: hosp-a
    sites: [HOSP-A]
    folders: [clinical/A-*]
  - id: hosp-b
    sites: [HOSP-B]
    folders: [clinical/B-*]
"""
SUBJECTS = "subject_id,site_id,age_years\nS-1,HOSP-A,60\nS-2,HOSP-A,50\nS-7,HOSP-B,44\n"
RESPONSE = "subject_id,assessment_date,response,criteria\n{}\n"


class Landing:
    def __init__(self, root: Path) -> None:
        self.root, self.warehouse = root, root / "warehouse.duckdb"
        self.senders = root / "senders.yaml"

    def send(self, delivery: str, files: dict[str, str], **manifest: object) -> None:
        folder = self.root / "landing" / "clinical" / delivery
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text)
        listed = [
            {"name": n, "sha256": hashlib.sha256((folder / n).read_bytes()).hexdigest()}
            for n in files
        ]
        (folder / "manifest.json").write_text(json.dumps({"files": listed} | manifest))
        ingest_path(
            folder,
            warehouse_path=self.warehouse,
            archive_dir=self.root / "archive",
            senders=self.senders,
        )

    def site(self, site: str | None, name: str = "report") -> Path:
        out = self.root / f"{name}-{site}"
        return build_site(self.warehouse, out, site=site).parent


def _text(path: Path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))


def test_a_sites_report_hides_what_another_sites_sender_wrote_before_the_registry(
    tmp_path: Path,
) -> None:
    landing = Landing(tmp_path)
    landing.send("A-1", {"subjects.csv": SUBJECTS}, sender="hosp-a")
    # Running open, nothing stops hospital B from writing a response for A's patient S-1.
    landing.send("B-1", {"responses.csv": RESPONSE.format("S-1,2025-02-01,PD,LUGANO2014")},
                 sender="hosp-b")  # fmt: skip
    open_site = landing.site("HOSP-A", "open")
    landing.senders.write_text(REGISTRY)
    landing.send("B-2", {"responses.csv": RESPONSE.format("S-2,2025-03-01,PD,LUGANO2014")})
    landing.send("A-2", {"responses.csv": RESPONSE.format("S-2,2025-03-02,CR,LUGANO2014")})
    site = landing.site("HOSP-A")

    # B's response for S-1 shows in A's report while the warehouse runs open, not once B is
    # known not to speak for HOSP-A; B's later try for S-2 was refused at ingest.
    assert "response PD" in _text(open_site / "patients" / "S-1.html")
    assert "response PD" not in _text(site / "patients" / "S-1.html")
    s2 = _text(site / "patients" / "S-2.html")
    assert "response CR" in s2 and "response PD" not in s2
    quality = _text(site / "data-quality.html")
    assert "Registry" in quality and "hosp-a" in quality and "hosp-b" not in quality
    assert "Open: no senders registry" in _text(open_site / "data-quality.html")


def test_the_data_quality_page_lists_retractions_key_changes_and_snapshot_gaps_without_reasons(
    tmp_path: Path,
) -> None:
    landing = Landing(tmp_path)
    landing.senders.write_text(REGISTRY)
    landing.send("A-1", {"subjects.csv": SUBJECTS.replace("S-7,HOSP-B,44\n", "S-3,HOSP-A,40\n")})
    landing.send(
        "A-2",
        {"subjects.csv": "subject_id,site_id\nS-2,HOSP-A\n"},
        snapshot="full",
        retractions=[{"table": "subjects", "key": {"subject_id": "S-3"}, "reason": "SECRET-3"}],
        key_changes=[{"column": "subject_id", "old": "S-2", "new": "S-2X", "reason": "SECRET-2"}],
    )
    quality = _text(landing.site(None) / "data-quality.html")

    corrections = quality.split("Retractions and key changes")[1].split("Vocabulary gaps")[0]
    assert "subject_id=S-3" in corrections and "S-2X" in corrections
    assert "subject_id=S-1" in corrections.split("Missing from a full snapshot")[1]
    assert "SECRET" not in quality
