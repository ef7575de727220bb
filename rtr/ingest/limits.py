"""Limits under which an untrusted delivered file is read, from ``RTR_LIMIT_*`` variables.

Defaults are sized for the largest genuine deliveries rtr expects, with room to spare:
canonical CSV/Parquet stream in chunks whatever their length (10^8-row in-process series),
so only their shape is bounded; formats whose readers hold a whole document in memory
(Excel, SDTM XPT/CSV/Dataset-JSON, FHIR, source profiles) are read in a separate process
bounded by memory and time. A file over any limit is refused as ``resource_limit`` with the
limit's name and value in its reason, so an operator who trusts the file knows what to raise.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    """What one delivered file may ask of the machine (environment variable in brackets)."""

    memory_mib: int = 4096
    """Resident memory of the reading process [RTR_LIMIT_MEMORY_MIB]. A 10^6-row Excel sheet
    of 20 columns or a 200 MB FHIR bundle read in well under 2 GiB."""
    cpu_seconds: int = 600
    """CPU time to read one file in the reading process [RTR_LIMIT_CPU_SECONDS]."""
    wall_seconds: int = 900
    """Wall-clock time to read one file in the reading process [RTR_LIMIT_WALL_SECONDS]."""
    max_columns: int = 4096
    """Columns of one table (CSV header, Parquet schema, sheet) [RTR_LIMIT_MAX_COLUMNS]; the
    widest contract table has 20, SDTM domains fewer than 100, CDMO wide exports a few hundred."""
    max_header_bytes: int = 1 << 20
    """Bytes of a CSV header line [RTR_LIMIT_MAX_HEADER_BYTES]."""
    max_sheet_cells: int = 50_000_000
    """Cells a worksheet declares (its dimension, rows x columns) [RTR_LIMIT_MAX_SHEET_CELLS];
    Excel's own grid is 1,048,576 x 16,384."""
    max_decompressed_mib: int = 2048
    """Declared uncompressed size of an Excel workbook's parts [RTR_LIMIT_MAX_DECOMPRESSED_MIB]."""
    max_compression_ratio: int = 200
    """Declared uncompressed / compressed size of one workbook part [RTR_LIMIT_MAX_COMPRESSION_RATIO];
    worksheet XML compresses 5-30x, a deflate bomb 1000x."""
    max_row_group_mib: int = 2048
    """Declared uncompressed size of one Parquet row group, read whole at a time
    [RTR_LIMIT_MAX_ROW_GROUP_MIB]; writers default to 64-128 MiB or 10^6 rows."""
    max_json_depth: int = 100
    """Nesting of JSON objects and arrays [RTR_LIMIT_MAX_JSON_DEPTH]; FHIR resources nest
    about 10 deep, Dataset-JSON 4."""
    max_profile_nodes: int = 100_000
    """Values a source profile expands to, aliases counted at their full size
    [RTR_LIMIT_MAX_PROFILE_NODES]; a real profile has a few hundred, a YAML alias bomb 10^9."""
    max_manifest_bytes: int = 16 << 20
    """Size of manifest.json and profile.yaml [RTR_LIMIT_MAX_MANIFEST_BYTES]."""


ENV_PREFIX = "RTR_LIMIT_"


def limits_from_env(env: Mapping[str, str] | None = None) -> Limits:
    """The limits in force: each field from ``RTR_LIMIT_<FIELD>`` when set, else its default."""
    env = os.environ if env is None else env
    values: dict[str, int] = {}
    for f in fields(Limits):
        var = ENV_PREFIX + f.name.upper()
        if var in env:
            try:
                values[f.name] = int(env[var])
            except ValueError:
                raise ValueError(
                    f"{var}={env[var]!r} is not a whole number; unset it or fix it"
                ) from None
            if values[f.name] <= 0:
                raise ValueError(f"{var} must be a positive number, not {env[var]!r}")
    return Limits(**values)
