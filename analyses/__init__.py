"""Statistics and models over the linked cohort: pure functions over polars frames."""

from analyses.config import AnalysisConfig
from analyses.run import TABLES, run_all, top_findings

__all__ = ["TABLES", "AnalysisConfig", "run_all", "top_findings"]
