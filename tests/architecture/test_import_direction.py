"""Imports go one way (pipelines -> rtr -> analyses -> schemas); pure layers touch no files or environment."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "schemas": {"dagster", "rtr", "analyses", "pipelines", "duckdb", "sample_data"},
    "analyses": {"dagster", "rtr", "pipelines", "duckdb", "sample_data"},
    "rtr": {"pipelines"},
}
# Reading the environment or the file system belongs to rtr/pipelines, never to pure layers.
IMPURE_CALLS = {"open", "getenv"}
IMPURE_ATTRIBUTES = {
    "environ",
    "read_text",
    "write_text",
    "read_bytes",
    "write_bytes",
    "read_csv",
    "read_parquet",
    "write_parquet",
    "write_csv",
    "scan_csv",
    "scan_parquet",
}


# The command line is the outermost shell: it composes every layer, Dagster included.
ENTRY_POINTS = {ROOT / "rtr" / "cli.py"}


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if p not in ENTRY_POINTS)


def _imported_roots(tree: ast.AST) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_never_imports_the_layers_above_it(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            _imported_roots(ast.parse(path.read_text())) & FORBIDDEN[package]
        )
        for path in _modules(package)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("package", ["schemas", "analyses"])
def test_pure_layers_read_no_files_and_no_environment(package: str) -> None:
    found = []
    for path in _modules(package):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in IMPURE_CALLS
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.id}()")
            if isinstance(node, ast.Attribute) and node.attr in IMPURE_ATTRIBUTES:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert found == []


def test_dagster_modules_do_not_postpone_annotations() -> None:
    """Dagster resolves resource and config types at definition time; postponed annotations break that."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in _modules("pipelines")
        if "from __future__ import annotations" in p.read_text()
    ]
    assert offenders == []


def test_every_layer_names_the_published_tables_as_schemas_does() -> None:
    from analyses import TABLES as ANALYSES_TABLES
    from pipelines.assets_analysis import ANALYSIS_GRAIN
    from rtr.link import LINKED_TABLES
    from schemas.published import ANALYSIS_TABLES
    from schemas.published import LINKED_TABLES as PUBLISHED_LINKED

    assert set(ANALYSIS_GRAIN) == set(ANALYSIS_TABLES) == set(ANALYSES_TABLES)
    assert set(LINKED_TABLES) == set(PUBLISHED_LINKED)


def _imported_modules(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_adapters_depend_on_their_interface_never_on_ingest() -> None:
    """rtr.ingest calls the adapters; the adapters know only rtr.adapters.interface, never ingest."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in _imported_modules(ast.parse(path.read_text())) if m.startswith("rtr.ingest")
        )
        for path in sorted((ROOT / "rtr" / "adapters").rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_every_format_is_registered_once_with_a_detector() -> None:
    from rtr.adapters import registry

    names = [f.name for f in registry.REGISTRY]
    assert len(names) == len(set(names))
    assert registry.REGISTRY[-1] is registry.OTHER
    assert all(callable(f.detect) for f in registry.REGISTRY)
