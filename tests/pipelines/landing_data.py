"""A tiny landing zone of canonical CSVs for the pipeline tests.

The clean chain: two autologous CAR-T patients, S1 (collection C1 -> lot L1) and S2
(C2 -> L2), each infused with their own lot and with a response and follow-up.
"""

from pathlib import Path

MANUFACTURING = {
    "collections": """collection_id,coi_id,subject_id,collection_date,material_type
C1,COI1,S1,2024-01-02,leukapheresis
C2,COI2,S2,2024-01-05,leukapheresis
""",
    "lots": """lot_id,coi_id,collection_id,product_code,modality,disposition,release_date
L1,COI1,C1,CART-CD19,autologous_car_t,released,2024-01-20
L2,COI2,C2,CART-CD19,autologous_car_t,released,2024-01-22
""",
}
CLINICAL = {
    "subjects": """subject_id,site_id,coi_id,sex,age_years
S1,H1,COI1,F,61
S2,H1,COI2,M,55
""",
    "infusions": """subject_id,lot_id,infusion_date
S1,L1,2024-01-25
S2,L2,2024-01-28
""",
    "responses": """subject_id,assessment_date,response,criteria
S1,2024-02-25,CR,LUGANO2014
S2,2024-02-28,PD,LUGANO2014
""",
    "follow_up": """subject_id,last_known_alive_date
S1,2024-06-01
S2,2024-06-01
""",
}
# Planted defect: S2 is also recorded as infused with S1's autologous lot L1, i.e. one
# patient's cells linked to two patients (autologous_lot_multiple_subjects, blocking).
CROSSED_INFUSIONS = CLINICAL["infusions"] + "S2,L1,2024-01-28\n"


def write_delivery(landing: Path, sender: str, delivery_id: str, tables: dict[str, str]) -> Path:
    """Write one delivery folder landing/<sender>/<delivery_id>/<table>.csv."""
    folder = landing / sender / delivery_id
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder
