"""The rtr Dagster code location: assets per layer, checks, sensor, schedule (see README.md)."""
