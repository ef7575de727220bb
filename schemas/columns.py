"""The column and table specification types that the contract is written in."""

from dataclasses import dataclass, field
from typing import Literal

Dtype = Literal["str", "int", "float", "bool", "date", "timestamp"]

DUCKDB_TYPES: dict[str, str] = {
    "str": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


@dataclass(frozen=True)
class Column:
    """One contract column: its type, whether it is required, and its allowed values."""

    name: str
    dtype: Dtype
    description: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Measurement:
    """How a long table carries a measured value: which columns hold code, value and unit."""

    domain: str
    code: str
    value: str
    unit: str
    text_value: str | None = None


@dataclass(frozen=True)
class Table:
    """One contract input table: its sender, grain, columns, key and measurement layout."""

    name: str
    sender: Literal["manufacturing", "clinical"]
    grain: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    one_of: tuple[str, ...] = ()
    measurement: Measurement | None = None
    description: str = ""
    _by_name: dict[str, Column] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return self._by_name[name]
