"""The rtr data contract as code: tables, vocabulary, response criteria, privacy and rule names."""

from schemas.columns import DUCKDB_TYPES, Column, Measurement, Table
from schemas.tables import CONTRACT_VERSION, TABLES

__all__ = ["CONTRACT_VERSION", "DUCKDB_TYPES", "TABLES", "Column", "Measurement", "Table"]
