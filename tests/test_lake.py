"""The lake protocol below both landing paths (dagster_project/ingest/lake.py): how a load is
finished, and the module graph that keeps the two paths apart."""

from __future__ import annotations

import ast
import datetime
from pathlib import Path

import polars as pl
import pytest

from dagster_project.ingest import lake as lakes
from dagster_project.ingest.validation import SuiteResult
from dagster_project.settings import REPO_ROOT, Lake

PACKAGE = REPO_ROOT / "dagster_project"


def _load(**counts) -> lakes.FileLoad:
    return lakes.FileLoad(
        load_id="gacc-00000000000000ab",
        source="gacc",
        source_file="gacc/2025-03.csv",
        file_sha256="ab" * 32,
        file_bytes=10,
        loaded_at=datetime.datetime(2026, 12, 1, 8, 30),
        status=lakes.REJECTED,
        **counts,
    )


def _logged(lake: Lake, load: lakes.FileLoad) -> dict:
    (record,) = pl.read_parquet(lake.load_log_file(load.source, load.load_id)).to_dicts()
    return record


FAILED = {
    "expectation": "expect_column_values_to_be_between",
    "column": "value",
    "unexpected_count": 2,
    "unexpected_percent": 40.0,
    "sample": ["-1", "-5"],
    "observed": None,
    "error": None,
}


def test_finish_load_lands_a_file_whose_suite_passed_and_records_it_last(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    load = _load(rows_read=7, rows_landed=4, rows_quarantined=1, rows_out_of_scope=2)
    load.out_of_scope_reasons = {"not a rare-earth line": 2}
    load.periods = ["2025-01/02", "2025-03"]
    suite = SuiteResult(success=True, evaluated=9)
    assert lakes.finish_load(lake, load, suite) is load
    assert (load.status, load.gx_success, load.gx_failed) == ("landed", True, [])
    assert load.message == "4 rows landed, 1 quarantined, 2 out of scope (not a rare-earth line: 2)"
    record = _logged(lake, load)
    assert (record["status"], record["message"], record["periods"]) == (
        "landed",
        load.message,
        "2025-01/02,2025-03",
    )
    assert record["out_of_scope_reasons"] == '{"not a rare-earth line": 2}'
    assert record["gx_success"] is True and record["gx_failed"] is None
    assert list(record) == list(lakes.LOAD_LOG_SCHEMA)


def test_finish_load_without_a_suite_run_lands_an_empty_file(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    load = lakes.finish_load(lake, _load())
    assert (load.status, load.gx_success, load.message) == (
        "landed",
        True,
        "no data rows (header only or empty list)",
    )


def test_finish_load_rejects_a_file_that_failed_its_suite_with_the_suite_summary(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    load = _load(rows_read=5, rows_quarantined=5)
    suite = SuiteResult(success=False, evaluated=9, failed=[FAILED])
    assert lakes.failed_suite_reason(suite) == (
        "file failed validation: expect_column_values_to_be_between(value): 2 unexpected"
    )
    lakes.finish_load(lake, load, suite)
    assert (load.status, load.gx_success, load.gx_failed) == ("rejected", False, [FAILED])
    assert load.message == (
        "gacc/2025-03.csv: failed GX suite: expect_column_values_to_be_between(value): 2 unexpected"
    )
    record = _logged(lake, load)
    assert record["status"] == "rejected" and record["gx_success"] is False
    assert '"unexpected_count": 2' in record["gx_failed"]


def test_finish_load_records_a_refused_file_with_its_problem(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    load = lakes.finish_load(lake, _load(), problem="is an HTML page, not a data file")
    assert (load.status, load.gx_success) == ("rejected", None)
    assert load.message == "gacc/2025-03.csv: is an HTML page, not a data file"
    assert _logged(lake, load)["message"] == load.message


def test_finish_load_refuses_rows_that_do_not_balance_and_writes_no_record(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    load = _load(rows_read=7, rows_landed=4, rows_quarantined=1)
    with pytest.raises(AssertionError, match="gacc/2025-03.csv: rows_read 7 != 5"):
        lakes.finish_load(lake, load, SuiteResult(success=True, evaluated=9))
    assert not lake.load_log_file("gacc", load.load_id).exists(), "no commit marker for a wrong count"


def test_the_lake_layout_keeps_a_two_month_period_one_folder_level(tmp_path: Path):
    lake = Lake(tmp_path)
    assert (
        lake.raw_file("gacc", "2025-01/02", "gacc-1")
        == tmp_path / "raw/gacc/period=2025-01_02/gacc-1.parquet"
    )
    assert lakes.load_id("gacc", "ab" * 32) == "gacc-abababababababab"


# --- the module graph -------------------------------------------------------------------------


def _module(path: Path) -> str:
    return ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> dict[str, list[int]]:
    """dagster_project modules imported by `path` → the line numbers, at any depth of the file
    (module level or inside a function)."""
    found: dict[str, list[int]] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` imports the module; `from module import name` the module.
            names = [
                f"{node.module}.{alias.name}" if _is_module(f"{node.module}.{alias.name}") else node.module
                for alias in node.names
            ]
        for name in names:
            if name.startswith("dagster_project.") and _is_module(name) and name != _module(path):
                found.setdefault(name, []).append(node.lineno)
    return found


def _is_module(name: str) -> bool:
    file = PACKAGE.parent / name.replace(".", "/")
    return file.with_suffix(".py").exists() or (file / "__init__.py").exists()


GRAPH = {_module(path): _imports(path) for path in PACKAGE.rglob("*.py")}


def test_landing_and_streaming_do_not_import_each_other():
    assert "dagster_project.ingest.streaming" in GRAPH["dagster_project.ingest.landing"]
    assert "dagster_project.ingest.lake" in GRAPH["dagster_project.ingest.streaming"]
    assert "dagster_project.ingest.landing" not in GRAPH["dagster_project.ingest.streaming"]
    assert "dagster_project.ingest.landing" not in GRAPH["dagster_project.ingest.lake"]
    assert "dagster_project.ingest.streaming" not in GRAPH["dagster_project.ingest.lake"]


def test_validation_is_imported_at_module_level_in_ingest():
    for name in ("landing", "streaming", "lake"):
        path = PACKAGE / "ingest" / f"{name}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {node.lineno for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)}
        lines = GRAPH[f"dagster_project.ingest.{name}"].get("dagster_project.ingest.validation", [])
        assert lines and set(lines) <= top, f"{name}.py imports validation inside a function: {lines}"


def test_no_import_circle_between_the_projects_modules():
    """Depth first, with the modules on the current path marked: an edge back to one of them
    closes a circle (a package's `__init__` counts as a module)."""
    done: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        for child in GRAPH.get(module, {}):
            if child in path:
                circles.append([*path[path.index(child) :], child])
            elif child not in done:
                visit(child, [*path, child])
        done.add(module)

    for module in sorted(GRAPH):
        if module not in done:
            visit(module, [module])
    assert circles == []
