"""The list of planted (and deliberately absent) effects, with their sizes, for checking analyses."""

from sample_data import constants as c
from sample_data.model import PlantedEffect

_RESPONSE = ("cr", "orr")
_TOX = ("crs_grade3plus", "icans_grade3plus")
_ALL_BINARY = _RESPONSE + _TOX
_SURVIVAL = ("pfs", "os")
# Per SD of culture_duration_days (~1.9 d): tscm falls 2.2 points/day, tscm SD ~8 points.
_CULTURE_TOTAL = round(c.EFFECT["tscm_pct"] * c.TSCM_PER_CULTURE_DAY * 1.9 / 8.2, 2)


def planted_effects(*, with_group: bool = True) -> list[PlantedEffect]:
    """Every feature-outcome relation the generator plants, plus the nulls and the decoy."""
    e = c.EFFECT
    out: list[PlantedEffect] = []
    add = out.append
    for o in _RESPONSE:
        add(
            PlantedEffect(
                "tscm_pct",
                o,
                "direct",
                e["tscm_pct"],
                "log-OR per SD of tscm_pct (stem-memory T cells)",
            )
        )
        add(
            PlantedEffect(
                "exhaustion_pd1_lag3_pct",
                o,
                "direct",
                e["exhaustion_pd1_lag3_pct"],
                "log-OR per SD",
            )
        )
        add(
            PlantedEffect(
                "culture_duration_days",
                o,
                "mediated",
                _CULTURE_TOTAL,
                "total effect via tscm_pct (approx.); direct effect 0 (adjusted for tscm_pct it vanishes)",
            )
        )
        add(
            PlantedEffect(
                "tumor_burden_spd_mm2",
                o,
                "direct",
                e["log_tumor_burden"],
                "log-OR per SD of log(tumor_burden_spd_mm2)",
            )
        )
        add(PlantedEffect("ldh_u_l", o, "direct", e["log_ldh"], "log-OR per SD of log(ldh_u_l)"))
        add(PlantedEffect("ecog", o, "direct", e["ecog"], "log-OR per SD of ecog"))
        add(
            PlantedEffect(
                "dose_per_kg", o, "direct", e["dose_per_kg"], "log-OR per SD of dose_per_kg"
            )
        )
        if with_group:
            add(
                PlantedEffect(
                    "ecog>=2 & extranodal_sites>=2",
                    o,
                    "group",
                    e["poor_group"],
                    "log-odds shift for members of the poor-response group (on top of the ecog term)",
                )
            )
    # Grades come from one latent logistic variable cut at four points (proportional odds),
    # so each toxicity effect is the same log odds ratio at every cut: on grade >= 3 and on
    # the graded outcome.
    for o, key in (
        ("crs_grade3plus", "crs"),
        ("icans_grade3plus", "icans"),
        ("crs_grade", "crs"),
        ("icans_grade", "icans"),
    ):
        add(
            PlantedEffect(
                "tumor_burden_spd_mm2",
                o,
                "direct",
                e[f"{key}_log_tumor_burden"],
                "log-OR per SD of log(tumor_burden_spd_mm2)",
            )
        )
        add(
            PlantedEffect(
                "ldh_u_l", o, "direct", e[f"{key}_log_ldh"], "log-OR per SD of log(ldh_u_l)"
            )
        )
        add(
            PlantedEffect(
                f"product_code={c.PRODUCT_CD28}",
                o,
                "direct",
                e[f"{key}_cd28"],
                f"log-OR of the CD28 product vs {c.PRODUCT_41BB} (per level, not per SD)",
                reference=c.PRODUCT_41BB,
            )
        )
    for o in ("crs_grade3plus", "crs_grade"):
        add(PlantedEffect("dose_per_kg", o, "direct", e["crs_dose_per_kg"], "log-OR per SD"))
    for o in ("icans_grade3plus", "icans_grade"):
        add(PlantedEffect("dose_per_kg", o, "null", 0.0, "dose drives CRS but not ICANS here"))
    for o in _SURVIVAL:
        add(
            PlantedEffect(
                "vein_to_vein_days",
                o,
                "direct",
                e["pfs_vein_to_vein"],
                "log-HR per SD (autologous only) on progression and on post-progression survival",
            )
        )
        add(
            PlantedEffect(
                "tumor_burden_spd_mm2",
                o,
                "direct",
                e["pfs_log_tumor_burden"],
                "log-HR per SD of log(tumor_burden_spd_mm2), plus more via worse response",
            )
        )
        for f in ("tscm_pct", "exhaustion_pd1_lag3_pct", "dose_per_kg"):
            add(
                PlantedEffect(f, o, "mediated", None, "acts on survival only through best response")
            )
    for f in ("viability_pct", "is_out_of_spec"):
        for o in _RESPONSE + _SURVIVAL:
            add(
                PlantedEffect(
                    f, o, "null", 0.0, "OOS viability 61-79 % infused: built-in negative control"
                )
            )
    for f in (
        "vcn_copies_per_cell",
        "endotoxin_eu_per_ml",
        "il2_iu_per_ml",
        "cd4_cd8_ratio",
        "transduction_moi",
        "car_positive_pct",
        "cryo_hold_hours",
        "ifng_release_pg_ml",
        "cd62l_pct",
    ):
        for o in _ALL_BINARY:
            add(PlantedEffect(f, o, "null", 0.0, "no effect on any outcome"))
    for o in _ALL_BINARY + _SURVIVAL:
        add(
            PlantedEffect(
                "shipping_temperature_excursion_min",
                o,
                "decoy",
                0.0,
                f"no causal effect; high at {c.SICK_SITE} (sicker patients): associated unadjusted, "
                "null after adjusting for tumour burden, LDH and ECOG",
            )
        )
    return out


def poor_response_group(*, planted: bool = True) -> dict[str, object]:
    """Definition of the planted poor-response group, in the shape analysis.patient_groups uses.

    In the null scenario (`planted=False`) the same patients exist but have no shift.
    """
    return {
        "planted": planted,
        "outcomes": list(_RESPONSE),
        "conditions": [
            {"column": "ecog", "op": ">=", "value": 2},
            {"column": "extranodal_sites", "op": ">=", "value": 2},
        ],
        "rule": "ecog >= 2 and extranodal_sites >= 2",
        "log_odds_shift": c.EFFECT["poor_group"] if planted else 0.0,
    }


# Lot outcomes of analyses.lot_outcomes: a lot fails release (OOS or rejected); fold expansion.
_NULL_LOT_PARAMETERS = (
    "transduction_moi",
    "il2_iu_per_ml",
    "seeding_density_cells_per_ml",
    "shipping_temperature_excursion_min",
    "sm_alc_cells_per_ul",
)


def planted_lot_effects() -> list[PlantedEffect]:
    """Effects on the lot outcomes, and the process parameters with none (per lot)."""
    e = c.LOT_EFFECT
    per_day = 0.42 * 1.9  # log fold expansion per SD of culture days at the mean growth rate
    out = [
        PlantedEffect("cryo_hold_hours", "release_failure", "direct", e["fail_cryo_hold"],
                      "log-OR per SD of an out-of-specification release (rejected lots add noise)"),
        PlantedEffect("sm_viability_pct", "release_failure", "direct", e["fail_sm_viability"],
                      "log-OR per SD of an out-of-specification release (rejected lots add noise)"),
        PlantedEffect("culture_duration_days", "fold_expansion", "direct", round(per_day, 2),
                      "log fold expansion per SD: cells grow for more days"),
        PlantedEffect("sm_cd3_pct", "fold_expansion", "direct", e["ln_fold_per_sd_sm_cd3"],
                      "log fold expansion per SD of starting-material CD3+"),
        PlantedEffect("fresh_vs_cryo_starting_material=cryopreserved", "fold_expansion",
                      "direct", e["ln_fold_cryo_start"],
                      "log fold expansion, cryopreserved vs fresh starting material",
                      reference="fresh"),
    ]  # fmt: skip
    for outcome, extra in (
        ("release_failure", ("culture_duration_days", "sm_cd3_pct")),
        ("fold_expansion", ("cryo_hold_hours", "sm_viability_pct")),
    ):
        for f in _NULL_LOT_PARAMETERS + extra:
            out.append(PlantedEffect(f, outcome, "null", 0.0, "no effect on this lot outcome"))
    return out
