"""The incremental planner (dagster_project/warehouse/incremental.py) on a tiny manifest, plain
load records, small Parquet load logs and a scratch DuckDB ledger: no dbt run. The end-to-end
proof on the samples is tests/test_incremental.py."""

import copy
import json
import os
import time
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dagster_project.warehouse import incremental as inc
from dagster_project.warehouse.incremental import Ledger, Load

T0 = datetime(2026, 1, 5, 9, 0, 0)


def _model(name, parents, *, materialized="view", unique_key=None, checksum="c0", meta=None, raw=""):
    config = {"materialized": materialized, "unique_key": unique_key, "meta": meta or {}}
    return {
        "name": name,
        "resource_type": "model",
        "unique_id": f"model.p.{name}",
        "schema": "marts" if materialized == "incremental" else "staging",
        "alias": None,
        "original_file_path": f"models/{name}.sql",
        "checksum": {"checksum": checksum},
        "config": config,
        "columns": {},
        "raw_code": raw,
        "depends_on": {"nodes": parents, "macros": []},
    }


def _seed(name, checksum="s0"):
    node = _model(name, [], materialized="seed", checksum=checksum)
    return {**node, "resource_type": "seed", "unique_id": f"seed.p.{name}"}


def _source(source_name, name):
    return {
        "source_name": source_name,
        "name": name,
        "relation_name": f"read_parquet('/lake/{source_name}/{name}')",
        "columns": {},
        "config": {"external_location": f"read_parquet('/lake/{source_name}/{name}/*.parquet')"},
    }


def manifest() -> dict:
    """comtrade, gacc and fx rows → stg (a scoped view) → fct (by period_start) → elem (also
    reads the magnets seed) and mirror (by year)."""
    sources = {
        f"source.p.lake_{s}.{t}": _source(f"lake_{s}", t)
        for s in ("comtrade", "gacc", "fx")
        for t in ("records", "load_log")
    }
    nodes = [
        _model(
            "stg",
            ["source.p.lake_comtrade.records", "source.p.lake_gacc.records", "source.p.lake_fx.records"],
            meta={"incremental_scope": "fct"},
            raw="select {{ var('vat_rate') }} as vat",
        ),
        _model("load_log", [f"source.p.lake_{s}.load_log" for s in ("comtrade", "gacc", "fx")]),
        _seed("magnets"),
        _model(
            "fct", ["model.p.load_log", "model.p.stg"], materialized="incremental", unique_key="period_start"
        ),
        _model(
            "elem", ["model.p.fct", "seed.p.magnets"], materialized="incremental", unique_key="period_start"
        ),
        _model("mirror", ["model.p.fct"], materialized="incremental", unique_key="year"),
        _model("dim", ["model.p.fct"]),
    ]
    macros = {
        "macro.p.changed_filter": {
            "name": "changed_filter",
            "package_name": "p",
            "macro_sql": "{% macro x %}",
        },
        "macro.dbt.is_incremental": {"name": "is_incremental", "package_name": "dbt", "macro_sql": "dbt's"},
    }
    return {
        "metadata": {"dbt_version": "1.11.16", "adapter_type": "duckdb", "project_name": "p"},
        "nodes": {n["unique_id"]: n for n in nodes},
        "sources": sources,
        "macros": macros,
    }


LOADS = [
    Load("comtrade", "comtrade-1", T0, "2025-10,2025-11"),
    Load("gacc", "gacc-1", T0, "2025-01/02,2025-03"),
    Load("fx", "fx-1", T0, "2025-01,2025-02,2025-03"),
]
MODELS = ("elem", "fct", "mirror")
VARIABLES = {"vat_rate": 0.13}


def built(m: dict, loads: list[Load], variables: dict = VARIABLES) -> Ledger:
    """The ledger after a green build of every model on `loads`."""
    first = inc.plan(m, loads, None, [], variables=variables)
    return Ledger(
        {name: p.fingerprint for name, p in first.models.items()},
        {name: p.inputs for name, p in first.models.items()},
    )


def modes(plan: inc.Plan) -> dict:
    return {
        name: (p.reason, list(p.periods)) if p.full else list(p.periods) for name, p in plan.models.items()
    }


def test_the_incremental_models_and_test_scopes_come_from_the_manifest():
    m = manifest()
    assert inc.incremental_models(m) == {f"model.p.{n}": n for n in ("fct", "elem", "mirror")}
    assert inc.test_scopes(m) == {
        "fct": {"model": "fct", "column": "period_start"},
        "elem": {"model": "elem", "column": "period_start"},
        "mirror": {"model": "mirror", "column": "year"},
        "stg": {"model": "fct", "column": "period_start"},
    }
    assert inc.lake_sources(m, "model.p.fct") == {"comtrade", "gacc", "fx"}


def test_a_scope_naming_a_model_that_is_not_incremental_is_refused_with_the_file():
    m = manifest()
    m["nodes"]["model.p.dim"]["config"]["meta"] = {"incremental_scope": "dim_country"}
    with pytest.raises(ValueError, match=r"models/dim.sql: meta incremental_scope names 'dim_country'"):
        inc.test_scopes(m)


def test_first_build_is_full():
    m = manifest()
    assert modes(inc.plan(m, LOADS, None, [], variables=VARIABLES)) == dict.fromkeys(
        MODELS, ("no table yet", [])
    )
    # tables there, no ledger yet (a warehouse built before the ledger existed)
    assert modes(inc.plan(m, LOADS, None, MODELS, variables=VARIABLES)) == dict.fromkeys(
        MODELS, ("no build state yet", [])
    )
    assert modes(inc.plan(m, LOADS, built(m, LOADS), MODELS, full_refresh=True, variables=VARIABLES)) == (
        dict.fromkeys(MODELS, ("--full-refresh", []))
    )


def test_nothing_new_rebuilds_nothing():
    m = manifest()
    assert modes(inc.plan(m, LOADS, built(m, LOADS), MODELS, variables=VARIABLES)) == dict.fromkeys(
        MODELS, []
    )


def test_a_new_load_rebuilds_only_its_periods():
    m = manifest()
    new = Load("comtrade", "comtrade-2", T0, "2026-01")
    plan = inc.plan(m, [*LOADS, new], built(m, LOADS), MODELS, variables=VARIABLES)
    assert modes(plan) == dict.fromkeys(MODELS, ["2026-01-01"])
    assert plan.models["fct"].inputs == frozenset([*LOADS, new])


def test_a_revised_or_deleted_load_rebuilds_its_period():
    m = manifest()
    revised = Load("comtrade", "comtrade-3", datetime(2026, 2, 1), "2025-11")
    assert modes(
        inc.plan(m, [*LOADS, revised], built(m, LOADS), MODELS, variables=VARIABLES)
    ) == dict.fromkeys(MODELS, ["2025-11-01"])
    # the revision deleted from the lake again: its period is rebuilt once more
    ledger = built(m, [*LOADS, revised])
    assert modes(inc.plan(m, LOADS, ledger, MODELS, variables=VARIABLES)) == dict.fromkeys(
        MODELS, ["2025-11-01"]
    )


def test_m2_fx_and_unreadable_periods():
    m = manifest()
    ledger = built(m, LOADS)
    gacc = Load("gacc", "gacc-2", T0, "2026-01/02")
    assert modes(inc.plan(m, [*LOADS, gacc], ledger, MODELS, variables=VARIABLES))["fct"] == ["2026-01-01"]
    # an FX month also redoes the first period of its year (GACC's M2 and annual rows)
    fx = Load("fx", "fx-2", T0, "2026-03")
    assert modes(inc.plan(m, [*LOADS, fx], ledger, MODELS, variables=VARIABLES))["fct"] == [
        "2026-01-01",
        "2026-03-01",
    ]
    annual = Load("comtrade", "comtrade-4", T0, "2024")
    assert modes(inc.plan(m, [*LOADS, annual], ledger, MODELS, variables=VARIABLES))["mirror"] == [
        "2024-01-01"
    ]
    odd = Load("comtrade", "comtrade-5", T0, "2025-13, Q1-2025")
    assert modes(inc.plan(m, [*LOADS, odd], ledger, MODELS, variables=VARIABLES))["fct"] == (
        "unreadable periods 2025-13, Q1-2025",
        [],
    )


def test_a_changed_model_rebuilds_it_and_what_depends_on_it_whole():
    m = manifest()
    ledger = built(m, LOADS)
    changed = copy.deepcopy(m)
    changed["nodes"]["model.p.stg"]["checksum"]["checksum"] = "c1"
    assert modes(inc.plan(changed, LOADS, ledger, MODELS, variables=VARIABLES)) == dict.fromkeys(
        MODELS, ("code or reference data changed since the last build", [])
    )
    # a seed only elem reads: elem whole, the others incremental
    seed = copy.deepcopy(m)
    seed["nodes"]["seed.p.magnets"]["checksum"]["checksum"] = "s1"
    new = Load("comtrade", "comtrade-2", T0, "2026-01")
    assert modes(inc.plan(seed, [*LOADS, new], ledger, MODELS, variables=VARIABLES)) == {
        "elem": ("code or reference data changed since the last build", []),
        "fct": ["2026-01-01"],
        "mirror": ["2026-01-01"],
    }
    # a column type of the model itself
    typed = copy.deepcopy(m)
    typed["nodes"]["model.p.mirror"]["columns"] = {"year": {"data_type": "bigint"}}
    assert modes(inc.plan(typed, LOADS, ledger, MODELS, variables=VARIABLES))["mirror"][0].startswith("code")


def test_a_changed_macro_or_var_rebuilds_whole():
    m = manifest()
    ledger = built(m, LOADS)
    macro = copy.deepcopy(m)
    macro["macros"]["macro.p.changed_filter"]["macro_sql"] = "{% macro x %} changed"
    assert {p.full for p in inc.plan(macro, LOADS, ledger, MODELS, variables=VARIABLES).models.values()} == {
        True
    }
    # dbt's own macros count through the dbt version, not one by one
    dbt_macro = copy.deepcopy(m)
    dbt_macro["macros"]["macro.dbt.is_incremental"]["macro_sql"] = "another"
    assert modes(inc.plan(dbt_macro, LOADS, ledger, MODELS, variables=VARIABLES)) == dict.fromkeys(MODELS, [])
    # a var a model upstream reads, and one nobody reads
    assert {
        p.full for p in inc.plan(m, LOADS, ledger, MODELS, variables={"vat_rate": 0.1}).models.values()
    } == {True}
    unread = {**VARIABLES, "as_of_date": "2026-01-01"}
    assert modes(inc.plan(m, LOADS, ledger, MODELS, variables=unread)) == dict.fromkeys(MODELS, [])


def test_a_model_built_without_its_incremental_parent_reads_the_parents_ledger():
    m = manifest()
    ledger = built(m, LOADS)
    new = Load("comtrade", "comtrade-2", T0, "2026-01")
    # fct not in this build: elem and mirror have nothing new to take from its table
    plan = inc.plan(
        m, [*LOADS, new], ledger, MODELS, selected={"model.p.elem", "model.p.mirror"}, variables=VARIABLES
    )
    assert modes(plan) == {"elem": [], "fct": ["2026-01-01"], "mirror": []}


def _results(*rows: tuple[str, str]) -> dict:
    return {
        "metadata": {"invocation_id": "inv-2"},
        "results": [{"unique_id": u, "status": s} for u, s in rows],
    }


ALL_GREEN = _results(
    ("seed.p.magnets", "success"),
    ("model.p.stg", "success"),
    ("model.p.load_log", "success"),
    ("model.p.fct", "success"),
    ("model.p.elem", "success"),
    ("model.p.mirror", "success"),
    ("test.p.not_null_fct_period_start", "pass"),
)


def test_the_ledger_after_a_green_build_and_nothing_after_a_failed_one():
    m = manifest()
    new = Load("comtrade", "comtrade-2", T0, "2026-01")
    ledger = built(m, LOADS)
    plan = inc.plan(m, [*LOADS, new], ledger, MODELS, variables=VARIABLES)
    rows = inc.ledger_rows(plan, m, ALL_GREEN, ledger, VARIABLES)
    assert rows == {name: (ledger.fingerprints[name], frozenset([*LOADS, new])) for name in MODELS}
    for status in ("fail", "error", "runtime error", "partial success"):
        failed = copy.deepcopy(ALL_GREEN)
        failed["results"][-1]["status"] = status
        assert inc.ledger_rows(plan, m, failed, ledger, VARIABLES) is None
    warned = copy.deepcopy(ALL_GREEN)
    warned["results"][-1]["status"] = "warn"
    assert inc.ledger_rows(plan, m, warned, ledger, VARIABLES) == rows


def test_a_partial_or_stale_build_forces_the_next_build_whole():
    m = manifest()
    ledger = built(m, LOADS)
    # the seed changed but this build did not run it: elem records `partial build`
    seed = copy.deepcopy(m)
    seed["nodes"]["seed.p.magnets"]["checksum"]["checksum"] = "s1"
    plan = inc.plan(seed, LOADS, ledger, MODELS, variables=VARIABLES)
    without_seed = _results(*[(r["unique_id"], r["status"]) for r in ALL_GREEN["results"][1:]])
    rows = inc.ledger_rows(plan, seed, without_seed, ledger, VARIABLES)
    assert rows["elem"][0] == inc.PARTIAL
    assert rows["fct"][0] == ledger.fingerprints["fct"]
    after = Ledger({n: r[0] for n, r in rows.items()}, {n: r[1] for n, r in rows.items()})
    assert modes(inc.plan(seed, LOADS, after, MODELS, variables=VARIABLES))["elem"] == (inc.LAST_PARTIAL, [])
    # planned incrementally on a manifest older than the code dbt then ran
    plan = inc.plan(m, LOADS, ledger, MODELS, variables=VARIABLES)
    ran = copy.deepcopy(m)
    ran["nodes"]["model.p.mirror"]["checksum"]["checksum"] = "c9"
    assert inc.ledger_rows(plan, ran, ALL_GREEN, ledger, VARIABLES)["mirror"][0] == inc.PARTIAL


def test_the_plan_dbt_reads():
    m = manifest()
    new = Load("gacc", "gacc-2", T0, "2026-01/02")
    ledger = built(m, LOADS)
    seed = copy.deepcopy(m)
    seed["nodes"]["seed.p.magnets"]["checksum"]["checksum"] = "s1"
    payload = json.loads(inc.plan(seed, [*LOADS, new], ledger, MODELS, variables=VARIABLES).as_json())
    assert payload["models"] == {
        "elem": {"full": True, "reason": "code or reference data changed since the last build"},
        "fct": {"full": False, "periods": ["2026-01-01"]},
        "mirror": {"full": False, "periods": ["2026-01-01"]},
    }
    assert payload["scopes"]["stg"] == {"model": "fct", "column": "period_start"}


def _row(load_id: str, status: str, periods: str | None) -> dict:
    return {
        "load_id": load_id,
        "source": load_id.split("-")[0],
        "loaded_at": T0,
        "status": status,
        "periods": periods,
    }


def _load_log(folder: Path, source: str, rows: list[dict]) -> None:
    (folder / source).mkdir(parents=True, exist_ok=True)
    schema = {"load_id": pl.String, "source": pl.String, "loaded_at": pl.Datetime("us"),
              "status": pl.String, "periods": pl.String}  # fmt: skip
    pl.DataFrame(schema=schema).write_parquet(folder / source / "_schema.parquet")
    for row in rows:
        pl.DataFrame([row], schema=schema).write_parquet(folder / source / f"{row['load_id']}.parquet")


def test_landed_loads_are_read_from_the_lake_load_logs(tmp_path):
    logs = tmp_path / "lake" / "audit" / "load_log"
    assert inc.read_landed_loads(logs) == []
    _load_log(logs, "comtrade", [
        _row("comtrade-1", "landed", "2025-11"),
        _row("comtrade-2", "rejected", None),
    ])  # fmt: skip
    _load_log(logs, "gacc", [
        _row("gacc-1", "landed", "2025-01/02"),
    ])  # fmt: skip
    assert sorted(inc.read_landed_loads(logs)) == [
        Load("comtrade", "comtrade-1", T0, "2025-11"),
        Load("gacc", "gacc-1", T0, "2025-01/02"),
    ]
    (logs / "gacc" / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match=f"cannot read the load logs under {logs}"):
        inc.read_landed_loads(logs)


def _warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    for name in MODELS:
        con.execute(f"create table marts.{name} as select 1 as x")
    con.close()


def _tables(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()}
    finally:
        con.close()


def test_a_failed_build_leaves_the_ledger_and_puts_renamed_tables_back(tmp_path):
    m = manifest()
    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps(m))
    logs = tmp_path / "lake" / "audit" / "load_log"
    _load_log(logs, "comtrade", [
        _row("comtrade-1", "landed", "2025-11"),
    ])  # fmt: skip
    _warehouse(warehouse)
    # no ledger yet: every model is rebuilt whole, so its table is renamed aside for dbt
    plan = inc.begin(warehouse, m, logs, variables=VARIABLES)
    assert {p.reason for p in plan.models.values()} == {"no build state yet"}
    assert _tables(warehouse) == {f"{n}{inc.BACKUP_SUFFIX}" for n in MODELS}
    # dbt rebuilt fct, then failed
    con = duckdb.connect(str(warehouse))
    con.execute("create table marts.fct as select 2 as x")
    con.close()
    (target / "run_results.json").write_text(json.dumps(_results(("model.p.fct", "error"))))
    assert not inc.finish(warehouse, plan, target, succeeded=False, variables=VARIABLES)
    assert _tables(warehouse) == set(MODELS)
    con = duckdb.connect(str(warehouse), read_only=True)
    assert inc.read_ledger(con) is None
    assert con.execute("select x from marts.fct").fetchall() == [(2,)]
    assert con.execute("select x from marts.elem").fetchall() == [(1,)]
    con.close()

    # the next build is green: the ledger is written, the renamed tables dropped
    plan = inc.begin(warehouse, m, logs, variables=VARIABLES)
    con = duckdb.connect(str(warehouse))
    for name in MODELS:
        con.execute(f"create table marts.{name} as select 3 as x")
    con.close()
    (target / "run_results.json").write_text(json.dumps(ALL_GREEN))
    assert inc.finish(warehouse, plan, target, succeeded=True, variables=VARIABLES)
    assert _tables(warehouse) == set(MODELS) | {"incremental_models", "incremental_loads"}
    con = duckdb.connect(str(warehouse), read_only=True)
    ledger = inc.read_ledger(con)
    state = con.execute(
        "select model, invocation_id from build_state.incremental_models order by 1"
    ).fetchall()
    con.close()
    assert state == [(name, "inv-2") for name in MODELS]
    assert ledger.loads["fct"] == {Load("comtrade", "comtrade-1", T0, "2025-11")}

    # a build killed after the rename, before dbt rebuilt the table: the next build puts the
    # table back (it matches the ledger) instead of rebuilding it whole
    changed = copy.deepcopy(m)
    changed["nodes"]["model.p.mirror"]["checksum"]["checksum"] = "c2"
    killed = inc.begin(warehouse, changed, logs, variables=VARIABLES)
    assert killed.renamed == (("marts", "mirror"),)
    assert modes(inc.begin(warehouse, m, logs, variables=VARIABLES)) == dict.fromkeys(MODELS, [])
    assert _tables(warehouse) == set(MODELS) | {"incremental_models", "incremental_loads"}

    # a failed incremental build: the ledger stays as it was
    _load_log(logs, "comtrade", [
        _row("comtrade-2", "landed", "2026-01"),
    ])  # fmt: skip
    plan = inc.begin(warehouse, m, logs, variables=VARIABLES)
    assert modes(plan) == dict.fromkeys(MODELS, ["2026-01-01"])
    failed = copy.deepcopy(ALL_GREEN)
    failed["results"][-1]["status"] = "fail"
    (target / "run_results.json").write_text(json.dumps(failed))
    assert not inc.finish(warehouse, plan, target, succeeded=True, variables=VARIABLES)
    con = duckdb.connect(str(warehouse), read_only=True)
    assert inc.read_ledger(con) == ledger
    con.close()


def test_a_manifest_older_than_a_file_of_the_project_is_stale(tmp_path):
    project, manifest_path = tmp_path / "dbt", tmp_path / "dbt" / "target" / "manifest.json"
    (project / "models").mkdir(parents=True)
    (project / "models" / "fct.sql").write_text("select 1")
    (project / "models" / "old.sql").write_text("select 1")
    assert inc.stale_manifest(manifest_path, project) == f"no {manifest_path}"
    manifest_path.parent.mkdir()
    manifest_path.write_text(json.dumps(manifest()))
    past = time.time() - 60

    def age() -> None:
        for path in (project, project / "models", *(project / "models").iterdir()):
            os.utime(path, (past, past))

    age()
    assert inc.stale_manifest(manifest_path, project) is None
    (project / "models" / "fct.sql").write_text("select 2")
    assert inc.stale_manifest(manifest_path, project).startswith(f"{project / 'models' / 'fct.sql'} changed")
    age()
    (project / "models" / "old.sql").unlink()
    assert inc.stale_manifest(manifest_path, project).startswith(f"{project / 'models'} changed")
    # dbt's own output in the project does not count
    age()
    (project / "target" / "run_results.json").write_text("{}")
    (project / "logs").mkdir()
    assert inc.stale_manifest(manifest_path, project) is None


def test_where_the_lake_is_does_not_change_the_fingerprint():
    m = manifest()
    moved = copy.deepcopy(m)
    for source in moved["sources"].values():
        source["config"]["external_location"] = source["config"]["external_location"].replace(
            "/lake", "/elsewhere"
        )
    assert inc.fingerprint(m, "model.p.fct", VARIABLES) == inc.fingerprint(moved, "model.p.fct", VARIABLES)
    typed = copy.deepcopy(m)
    typed["sources"]["source.p.lake_gacc.records"]["columns"] = {"period": {"data_type": "varchar"}}
    assert inc.fingerprint(m, "model.p.fct", VARIABLES) != inc.fingerprint(typed, "model.p.fct", VARIABLES)


def test_cli_vars_and_project_vars(tmp_path):
    (tmp_path / "dbt_project.yml").write_text("name: p\nvars:\n  vat_rate: 0.13\n  days: 10\n")
    assert inc.cli_vars(["build", "--vars", "{days: 3}"]) == {"days": 3}
    assert inc.cli_vars(list(inc.BUILD_ARGS)) == {}
    assert inc.project_variables(tmp_path, {"days": 3}) == {"vat_rate": 0.13, "days": 3}


def with_reconciliation(m: dict) -> dict:
    """mirror → rates (on a monthly refresh schedule) → recon (by year, reads mirror and rates)."""
    m = copy.deepcopy(m)
    for node in (
        _model("rates", ["model.p.mirror"], materialized="incremental", meta={"refresh": "monthly"}),
        _model("recon", ["model.p.mirror", "model.p.rates"], materialized="incremental", unique_key="year"),
    ):
        m["nodes"][node["unique_id"]] = node
    return m


def test_reconciliation_parameters_are_re_estimated_monthly_and_rebuild_what_reads_them():
    m = with_reconciliation(manifest())
    every = (*MODELS, "rates", "recon")
    december = inc.refresh_token(datetime(2026, 12, 3), {})
    assert december == "2026-12"
    first = inc.plan(m, LOADS, None, [], variables=VARIABLES, refreshed=december)
    ledger = Ledger(
        {n: p.fingerprint for n, p in first.models.items()}, {n: p.inputs for n, p in first.models.items()}
    )
    # the models on the schedule, and those built from them, carry the refresh period
    assert ledger.fingerprints["rates"].endswith("@2026-12") and ledger.fingerprints["recon"].endswith(
        "@2026-12"
    )
    assert "@" not in ledger.fingerprints["mirror"]
    # the scheduled model has no periods: its data tests are not scoped
    assert "rates" not in first.scopes and first.scopes["recon"] == {"model": "recon", "column": "year"}

    new = Load("comtrade", "comtrade-2", T0, "2026-01")
    # the same month: rates kept (its build inserts nothing), recon reconciles the new year only
    same = inc.plan(m, [*LOADS, new], ledger, every, variables=VARIABLES, refreshed="2026-12")
    assert modes(same)["rates"] == ["2026-01-01"] and not same.models["rates"].full
    assert modes(same)["recon"] == ["2026-01-01"]
    # a new month: re-estimated, and recon rebuilt whole; the other models as before
    january = inc.refresh_token(datetime(2027, 1, 1), {})
    later = inc.plan(m, [*LOADS, new], ledger, every, variables=VARIABLES, refreshed=january)
    scheduled = inc.SCHEDULED.format(last="2026-12")
    assert modes(later)["rates"] == (scheduled, []) and modes(later)["recon"] == (scheduled, [])
    assert modes(later)["mirror"] == ["2026-01-01"]
    # forced (REE_RECONCILE_REFRESH=always): re-estimated now, and not again later that month
    forced = inc.refresh_token(datetime(2026, 12, 3), {inc.REFRESH_ENV: "always"})
    assert forced.startswith("2026-12/")
    assert (
        modes(inc.plan(m, LOADS, ledger, every, variables=VARIABLES, refreshed=forced))["recon"][0]
        == scheduled
    )
    after = Ledger(
        {**ledger.fingerprints, "recon": ledger.fingerprints["recon"].replace("2026-12", forced)},
        ledger.loads,
    )
    assert modes(inc.plan(m, LOADS, after, every, variables=VARIABLES, refreshed="2026-12"))["recon"] == []
    # a code change is still a code change
    changed = copy.deepcopy(m)
    changed["nodes"]["model.p.rates"]["checksum"]["checksum"] = "c1"
    assert modes(inc.plan(changed, LOADS, ledger, every, variables=VARIABLES, refreshed="2026-12"))["recon"][
        0
    ] == (inc.CODE_CHANGED)
    with pytest.raises(ValueError, match="REE_RECONCILE_REFRESH='weekly'"):
        inc.refresh_token(environ={inc.REFRESH_ENV: "weekly"})


def test_on_spark_nothing_is_renamed_and_a_changed_model_makes_the_build_a_full_refresh(tmp_path):
    """Spark (engine_tables): the tables are Spark's, the ledger stays in the DuckDB file; a whole
    rebuild that may change columns cannot rename aside, so the build becomes --full-refresh."""
    m = manifest()
    for name in MODELS:  # on Spark the manifest carries partition_by, not unique_key
        config = m["nodes"][f"model.p.{name}"]["config"]
        config["partition_by"], config["unique_key"] = [config["unique_key"]], None
    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "target"
    target.mkdir()
    (target / "run_results.json").write_text(json.dumps(ALL_GREEN))
    (target / "manifest.json").write_text(json.dumps(m))
    logs = tmp_path / "lake" / "audit" / "load_log"
    _load_log(logs, "comtrade", [_row("comtrade-1", "landed", "2025-11")])
    spark_tables = {("marts", name) for name in MODELS}

    # Spark has no tables yet: full builds, no --full-refresh needed
    plan = inc.begin(warehouse, m, logs, variables=VARIABLES, engine_tables=set())
    assert {p.reason for p in plan.models.values()} == {inc.NO_TABLE}
    assert not plan.full_refresh and plan.renamed == ()
    assert inc.finish(warehouse, plan, target, succeeded=True, variables=VARIABLES)
    assert _tables(warehouse) == {"incremental_models", "incremental_loads"}

    # a new month: incremental, by the partition column
    _load_log(logs, "comtrade", [_row("comtrade-2", "landed", "2026-01")])
    plan = inc.begin(warehouse, m, logs, variables=VARIABLES, engine_tables=spark_tables)
    assert modes(plan) == dict.fromkeys(MODELS, ["2026-01-01"])
    assert plan.models["mirror"].column == "year" and not plan.full_refresh

    # a changed model: the whole build is --full-refresh, planned as one
    changed = copy.deepcopy(m)
    changed["nodes"]["model.p.mirror"]["checksum"]["checksum"] = "c2"
    plan = inc.begin(warehouse, changed, logs, variables=VARIABLES, engine_tables=spark_tables)
    assert plan.full_refresh and plan.renamed == ()
    assert {p.reason for p in plan.models.values()} == {inc.FULL_REFRESH}
    # ... but not when the only full rebuild is of a table Spark does not have
    plan = inc.begin(
        warehouse, changed, logs, variables=VARIABLES, engine_tables=spark_tables - {("marts", "mirror")}
    )
    assert not plan.full_refresh and plan.models["mirror"].reason == inc.NO_TABLE
