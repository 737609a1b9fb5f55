"""Incremental dbt builds (dagster_project/warehouse/incremental.py plans them, dbt/macros/
incremental.sql applies the plan): a build after new or changed loads rebuilds only their
periods, and gives the marts a `--full-refresh` build gives on the same lake. Every build here
goes through the planner the Dagster asset uses (`incremental.build`).

One sequence on the shipped samples, in a copy of the dbt project (so that a seed can be
changed) and a temporary lake: first build → one new month → a revised file for an old period,
whose first build fails → the build after it → the revised load deleted and a seed changed.
`build_state.incremental_runs` says what each incremental model did; the marts are compared with
a `--full-refresh` build of the same lake in a second warehouse after the new month and at the
end.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, REPO, SAMPLES

from dagster_project.warehouse import incremental

DBT = str(Path(sys.executable).parent / "dbt")
# What the Dagster asset runs.
BUILD = list(incremental.BUILD_ARGS)
# The reference: every seed and model rebuilt whole (tests skipped: the main warehouse runs them).
REFERENCE = ["build", "--full-refresh", "--exclude", "resource_type:test", "resource_type:unit_test"]
INCREMENTAL = ("fct_trade_flows", "fct_element_flows", "mart_mirror_flows", "fct_reconciled_flows")
NEW_MONTH = FIXTURES / "incremental" / "china_exports_2026_01.json"


class Warehouse:
    """One DuckDB warehouse on a shared lake, built by dbt from `project`."""

    def __init__(self, project: Path, lake: Path, path: Path):
        self.project, self.lake, self.path = project, lake, path
        self.target = path.parent / f"target-{path.stem}"

    def dbt(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`dbt build` planned, and its ledger recorded, as the Dagster asset does; other
        commands as they are."""
        if args[0] == "build":
            done = incremental.build(
                self._run,
                lambda done: done.returncode,
                project_dir=self.project,
                target_dir=self.target,
                data_dir=self.lake.parent,
                warehouse_path=self.path,
                args=args,
            )
        else:
            done = self._run(args, {})
        if check and done.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{done.stdout[-4000:]}")
        return done

    def _run(self, args: list[str], extra_env: dict[str, str]) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "REE_DATA_DIR": str(self.lake.parent),
            "REE_LAKE_DIR": str(self.lake),
            "REE_WAREHOUSE_PATH": str(self.path),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **extra_env,
        }
        command = [DBT, *args, "--project-dir", str(self.project), "--profiles-dir", str(self.project),
                   "--target-path", str(self.target), "--log-path", str(self.target)]  # fmt: skip
        return subprocess.run(command, cwd=self.project, env=env, capture_output=True, text=True)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def last_runs(self) -> dict[str, tuple[str, str, list[str]]]:
        """model → (mode, reason, rebuilt period_starts) of the latest dbt invocation."""
        rows = self.query(
            "select model, mode, reason, periods from build_state.incremental_runs where invocation_id = "
            "(select invocation_id from build_state.incremental_runs order by started_at desc limit 1)"
        )
        return {
            model: (mode, reason, periods.split(",") if periods else [])
            for model, mode, reason, periods in rows
        }

    def state(self) -> list[tuple]:
        return self.query(
            "select model, fingerprint, invocation_id from build_state.incremental_models order by 1"
        )


def mart_differences(a: Path, b: Path) -> dict[str, str]:
    """Every table of schema marts in both warehouses: the same rows as multisets, every
    non-float column equal and every float within 1e-9 (relative); {} when identical. The
    benchmark's comparison (`tools/compare.py`), so the test and the 1e7 check agree on "equal"."""
    from tools.compare import compare_marts

    result = compare_marts(a, b)
    assert result["tables"] > 0, "no marts to compare"
    return result["differences"]


def ingest(inbox: Path, lake: Path) -> None:
    from dagster_project.ingest import landing
    from dagster_project.sources import SOURCES

    for spec in SOURCES.values():
        report = landing.ingest_source(spec, inbox_dir=inbox, lake_dir=lake)
        rejected = [f"{load.source_file}: {load.message}" for load in report.loads if load.status != "landed"]
        assert not rejected, rejected


def china_exports(warehouse: Warehouse, period: str) -> dict[tuple[str, str], float]:
    rows = warehouse.query(
        "select partner_iso3, product_code, value_usd from marts.fct_trade_flows where source = 'comtrade' "
        "and reporter_iso3 = 'CHN' and flow = 'export' and freq = 'M' and period_start = cast(? as date)",
        [period],
    )
    return {(partner, product): value for partner, product, value in rows}


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    project = root / "dbt"
    shutil.copytree(REPO / "dbt", project, ignore=shutil.ignore_patterns("target*", "logs", ".user.yml"))
    inbox, lake = root / "inbox", root / "data" / "lake"
    shutil.copytree(SAMPLES, inbox, ignore=shutil.ignore_patterns("README.md"))
    main = Warehouse(project, lake, root / "data" / "warehouse.duckdb")
    full = Warehouse(project, lake, root / "data" / "full.duckdb")
    out: dict = {"main": main}

    ingest(inbox, lake)
    main.dbt(*BUILD)
    out["first"] = main.last_runs()
    out["before_month"] = china_exports(main, "2025-11-01")

    # One new month.
    shutil.copy(NEW_MONTH, inbox / "comtrade" / NEW_MONTH.name)
    ingest(inbox, lake)
    main.dbt(*BUILD)
    out["month"] = main.last_runs()
    out["month_token"] = incremental.refresh_token()
    # The reconciliation's rates and weights were kept (same calendar month): re-estimated now, as
    # the first build of a new month would, fct_reconciled_flows is rebuilt whole.
    os.environ[incremental.REFRESH_ENV] = "always"
    try:
        main.dbt(*BUILD)
    finally:
        del os.environ[incremental.REFRESH_ENV]
    out["refresh"] = main.last_runs()
    full.dbt(*REFERENCE)
    out["month_diff"] = mart_differences(main.path, full.path)
    out["full_refresh"] = full.last_runs()

    # A revised file for an old period (China's exports, Nov 2025): values change, a partner goes.
    # Its first build fails (a data test that fails on purpose): nothing is recorded, so the next
    # build rebuilds the same period again.
    payload = json.loads((SAMPLES / "comtrade" / "china_exports_monthly_2023_2025.json").read_text())
    revised = [r for r in payload["data"] if r["period"] == "202511" and r["partnerCode"] != 392]
    for record in revised:
        record["primaryValue"] = record["fobvalue"] = round(record["primaryValue"] * 0.5)
    payload["data"], payload["count"] = revised, len(revised)
    (inbox / "comtrade" / "china_exports_2025_11_revised.json").write_text(json.dumps(payload))
    out["revised_values"] = {
        (r["partnerISO"] if r["partnerCode"] else "WLD", r["cmdCode"]): float(r["primaryValue"])
        for r in revised
    }
    ingest(inbox, lake)
    out["state_before_failure"] = main.state()
    failing = project / "tests" / "assert_fails_on_purpose.sql"
    failing.write_text("-- fails on purpose (tests/test_incremental.py)\nselect 1 as failure\n")
    out["failed_returncode"] = main.dbt(*BUILD, check=False).returncode
    out["failed"] = main.last_runs()
    out["state_after_failure"] = main.state()
    failing.unlink()
    main.dbt(*BUILD)
    out["revision"] = main.last_runs()
    out["after_revision"] = china_exports(main, "2025-11-01")

    # The revised load deleted from the lake, and a seed changed: the deleted load's period is
    # rebuilt (the original figures come back); the models downstream of the seed are rebuilt whole.
    (load_id,) = main.query(
        "select load_id from audit.load_log where source_file like '%china_exports_2025_11_revised%'"
    )[0]
    for path in lake.glob(f"raw/comtrade/*/{load_id}.parquet"):
        path.unlink()
    (lake / "audit" / "load_log" / "comtrade" / f"{load_id}.parquet").unlink()
    (inbox / "comtrade" / "china_exports_2025_11_revised.json").unlink()
    seed = project / "seeds" / "magnet_composition.csv"
    seed.write_text(seed.read_text().replace("ndfeb_default,Dy,0.009,", "ndfeb_default,Dy,0.010,"))
    main.dbt(*BUILD)
    out["deletion_and_seed"] = main.last_runs()
    out["after_deletion"] = china_exports(main, "2025-11-01")
    full.dbt(*REFERENCE)
    out["final_diff"] = mart_differences(main.path, full.path)
    return out


def test_first_build_is_full(sequence):
    assert {model: mode for model, (mode, _, _) in sequence["first"].items()} == dict.fromkeys(
        INCREMENTAL, "full"
    )


def test_new_month_rebuilds_only_that_month_and_equals_a_full_build(sequence):
    assert sequence["month"] == {
        "fct_trade_flows": ("incremental", "", ["2026-01-01"]),
        "fct_element_flows": ("incremental", "", ["2026-01-01"]),
        "mart_mirror_flows": ("incremental", "", ["2026-01-01"]),
        "fct_reconciled_flows": ("incremental", "", ["2026-01-01"]),
    }
    assert sequence["month_diff"] == {}
    assert list(sequence["full_refresh"].values()) == [("full", "--full-refresh", [])] * 4
    assert len(china_exports(sequence["main"], "2026-01-01")) == 43


def test_reconciliation_parameters_refresh_on_schedule(sequence):
    """A build in the month of the last estimate keeps the rates and weights and reconciles the
    new year only; a re-estimate rebuilds fct_reconciled_flows whole and nothing else."""
    assert sequence["refresh"] == {
        "fct_trade_flows": ("incremental", "", []),
        "fct_element_flows": ("incremental", "", []),
        "mart_mirror_flows": ("incremental", "", []),
        "fct_reconciled_flows": ("full", incremental.SCHEDULED.format(last=sequence["month_token"]), []),
    }


def test_failed_build_records_nothing_and_the_next_build_redoes_it(sequence):
    assert sequence["failed_returncode"] != 0
    # The failed build did rebuild the revised period ...
    assert {model: run[2] for model, run in sequence["failed"].items()} == dict.fromkeys(
        INCREMENTAL, ["2025-11-01"]
    )
    # ... but recorded nothing, so the next build rebuilt it again.
    assert sequence["state_after_failure"] == sequence["state_before_failure"]
    assert {model: run[2] for model, run in sequence["revision"].items()} == dict.fromkeys(
        INCREMENTAL, ["2025-11-01"]
    )


def test_revised_file_replaces_its_period(sequence):
    assert {model: run[:2] for model, run in sequence["revision"].items()} == dict.fromkeys(
        INCREMENTAL, ("incremental", "")
    )
    assert sequence["after_revision"] == sequence["revised_values"]
    assert ("JPN", "850511") in sequence["before_month"]
    assert not any(partner == "JPN" for partner, _ in sequence["after_revision"])


def test_deleted_load_and_seed_change(sequence):
    runs = sequence["deletion_and_seed"]
    # The deleted revision's period is rebuilt, and its original figures are back ...
    assert runs["fct_trade_flows"] == ("incremental", "", ["2025-11-01"])
    assert runs["mart_mirror_flows"] == ("incremental", "", ["2025-11-01"])
    assert runs["fct_reconciled_flows"] == ("incremental", "", ["2025-11-01"])
    assert sequence["after_deletion"] == sequence["before_month"]
    # ... the seed's dependents are rebuilt whole ...
    assert runs["fct_element_flows"][:2] == ("full", "code or reference data changed since the last build")
    # ... and after all these steps the marts are those of a full build of the same lake.
    assert sequence["final_diff"] == {}


def test_dbt_unit_tests_pass(sequence):
    """dbt unit tests are left out of the scheduled build (dagster_project/warehouse/dbt.py):
    they run here, in `make test` and CI, on the warehouse built above."""
    done = sequence["main"].dbt("test", "--select", "test_type:unit")
    assert "ERROR=0" in done.stdout and "PASS=0" not in done.stdout
