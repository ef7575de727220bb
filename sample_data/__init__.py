"""Seeded generator of realistic CDMO and hospital deliveries with documented planted effects."""

from sample_data.cohort import generate_cohort
from sample_data.defects import write_defective_deliveries
from sample_data.model import Cohort, Delivery, PlantedEffect
from sample_data.writing import write_deliveries

__all__ = [
    "Cohort",
    "Delivery",
    "PlantedEffect",
    "generate_cohort",
    "write_defective_deliveries",
    "write_deliveries",
]
