"""Seeded generator of realistic CDMO and hospital deliveries with documented planted effects."""

from sample_data.cohort import generate_cohort
from sample_data.model import Cohort, Delivery, PlantedEffect
from sample_data.writing import write_deliveries


def write_defective_deliveries(landing_root):  # type: ignore[no-untyped-def]
    """Write the documented set of defective deliveries; returns the expected catalogue."""
    from sample_data.defects import write_defective_deliveries as _write

    return _write(landing_root)


__all__ = [
    "Cohort",
    "Delivery",
    "PlantedEffect",
    "generate_cohort",
    "write_defective_deliveries",
    "write_deliveries",
]
