"""The incremental plan: which periods each incremental dbt model rebuilds, decided in Python.

The big facts (`fct_trade_flows`, `fct_element_flows` by `period_start`, `mart_mirror_flows` by
`year`) are incremental. Before a `dbt build` this module compares the landed loads of the lake's
load logs with the `build_state` ledger of what each model's table contains, and the model's
fingerprint (from `manifest.json`) with the one it was built with:

* changed periods: the periods of every load in the lake and not in the ledger, or in the ledger
  and not in the lake (a new file, a revision, a reload, a deleted or rejected load). An FX month
  also changes the first period of its year (GACC's January+February and annual rows convert at
  the rates of more than one month);
* a full rebuild instead: `--full-refresh`; no table yet; no ledger yet; the fingerprint differs
  (a model, seed, source, column type, config or var upstream of the model, a macro of the
  project, or the dbt version changed; or the last build was partial); a period it cannot read.

The plan reaches dbt in the environment variable `REE_INCREMENTAL_PLAN` (JSON), read by
`dbt/macros/incremental.sql`; without it a `dbt build` rebuilds every incremental model whole. It
is not passed as `--vars`: dbt re-parses the whole project whenever `--vars` change (measured:
+6 s of CPU per build here), and the plan changes with every build. A model rebuilt whole is
first renamed aside, so dbt builds it as a new table (a changed column type included); the old
table comes back if the build fails.

The ledger is written here, after a build in which nothing failed, and only then: a failed
build leaves it as it was, so the next build redoes the same periods.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from dagster_project.lib.sql import identifier

# What a scheduled build runs. dbt unit tests check the models' SQL on fixed fixture rows, not
# the data: they give the same answer on every run until the SQL changes, so they run in
# `make test` and CI (tests/test_incremental.py::test_dbt_unit_tests_pass), not in every
# scheduled build (1.5-2 s a build). Data tests still run in every build, as asset checks.
BUILD_ARGS = ("build", "--exclude", "resource_type:unit_test")
PLAN_ENV = "REE_INCREMENTAL_PLAN"
STATE_SCHEMA = "build_state"
# Lake sources whose change in a month also changes the first period of that year.
YEAR_SOURCES = frozenset({"fx"})
# A view's `config.meta` key naming the incremental model its data tests are scoped like.
SCOPE_META = "incremental_scope"
# The fingerprint's marker for "built from upstream code this build did not rebuild": the next
# build of the model is a full one.
PARTIAL = "partial build"
BACKUP_SUFFIX = "__before_full_rebuild"

FULL_REFRESH = "--full-refresh"
NO_TABLE = "no table yet"
NO_STATE = "no build state yet"
CODE_CHANGED = "code or reference data changed since the last build"
LAST_PARTIAL = "the last build changed code it did not rebuild everything upstream for"
# A model whose `config.meta.refresh` is `monthly` (the reconciliation's CIF/FOB rates and
# reporter weights) is estimated from everything, so it is not recomputed by every build: its
# build keeps the table as it is until the first build of a new calendar month (UTC), and what
# reads it is then rebuilt whole. REE_RECONCILE_REFRESH=always re-estimates in every build.
REFRESH_META = "refresh"
REFRESH_ENV = "REE_RECONCILE_REFRESH"
SCHEDULED = "scheduled re-estimate of the reconciliation parameters (monthly; last {last})"

_READABLE = re.compile(r"[0-9]{4}(-(0[1-9]|1[0-2])(/(0[1-9]|1[0-2]))?)?")
# var('name') or var("name", default) in a model's code: the vars its rows depend on.
_VAR_CALL = re.compile(r"(?<![A-Za-z0-9_])var\( *['\"]([A-Za-z0-9_]+)")
_FAILED = {"error", "fail", "runtime error", "partial success"}
_PROJECT_SKIP = {"target", "logs", "dbt_packages", ".user.yml"}

Manifest = Mapping[str, Any]


@dataclass(frozen=True, order=True)
class Load:
    """One landed file load, as the load log and the ledger record it."""

    source: str
    load_id: str
    loaded_at: datetime
    periods: str | None


@dataclass(frozen=True)
class Ledger:
    """`build_state`: per incremental model, its fingerprint and the loads its table contains."""

    fingerprints: Mapping[str, str]
    loads: Mapping[str, frozenset[Load]]


@dataclass(frozen=True)
class ModelPlan:
    full: bool
    reason: str = ""
    periods: tuple[str, ...] = ()
    column: str = "period_start"
    fingerprint: str = ""
    inputs: frozenset[Load] = frozenset()

    def as_var(self) -> dict[str, Any]:
        return (
            {"full": True, "reason": self.reason}
            if self.full
            else {"full": False, "periods": list(self.periods)}
        )


@dataclass(frozen=True)
class Plan:
    models: Mapping[str, ModelPlan]
    # tested relation name → the incremental model whose periods its data tests look at
    scopes: Mapping[str, dict[str, str]] = field(default_factory=dict)
    selected: frozenset[str] | None = None
    # the refresh token of this build (`refresh_token`): part of the fingerprints it recorded
    refreshed: str = ""
    # (schema, table) of the tables renamed aside for a full rebuild (`begin`)
    renamed: tuple[tuple[str, str], ...] = ()
    # the build must run with --full-refresh (`begin` on an engine without rename-aside)
    full_refresh: bool = False

    def as_json(self) -> str:
        return json.dumps(
            {"models": {m: p.as_var() for m, p in self.models.items()}, "scopes": dict(self.scopes)},
            sort_keys=True,
        )

    def env(self) -> dict[str, str]:
        return {PLAN_ENV: self.as_json()}


# --- the manifest ------------------------------------------------------------------------------


def incremental_models(manifest: Manifest) -> dict[str, str]:
    """unique_id → name of every incremental model."""
    return {
        uid: node["name"]
        for uid, node in manifest["nodes"].items()
        if node.get("resource_type") == "model" and node["config"].get("materialized") == "incremental"
    }


def upstream(manifest: Manifest, unique_id: str) -> set[str]:
    """unique_id and every node and source it depends on, directly or not."""
    seen, frontier = {unique_id}, [unique_id]
    while frontier:
        node = manifest["nodes"].get(frontier.pop())
        for parent in (node or {}).get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    return seen


def lake_sources(manifest: Manifest, unique_id: str) -> set[str]:
    """The lake sources (comtrade, fx, ...) whose rows are upstream of the node. Every load log
    is upstream of fct_trade_flows through audit.load_log: that does not count."""
    found = set()
    for uid in upstream(manifest, unique_id):
        source = manifest["sources"].get(uid)
        if source and source["name"] != "load_log":
            found.add(source["source_name"].removeprefix("lake_"))
    return found


def refresh_token(now: datetime | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The period of the scheduled refresh this build belongs to: the calendar month (UTC); with
    REE_RECONCILE_REFRESH=always the month and a token of this build (`YYYY-MM/<token>`), so that
    this build re-estimates and the next scheduled one in the same month does not."""
    import os
    import uuid

    mode = (environ if environ is not None else os.environ).get(REFRESH_ENV, "monthly")
    if mode not in ("monthly", "always"):
        raise ValueError(f"{REFRESH_ENV}={mode!r}: expected monthly (the default) or always")
    month = (now or datetime.now(UTC)).strftime("%Y-%m")
    return f"{month}/{uuid.uuid4().hex[:12]}" if mode == "always" else month


def refresh_due(stored: str, current: str) -> bool:
    """Whether a model on a refresh schedule is re-estimated: fingerprints `digest@token` with
    the same digest (else it is a code change); due in a new month, or when this build forces it."""
    old, new = stored.partition("@")[2], current.partition("@")[2]
    return "/" in new or old[:7] != new[:7]


def refreshed_upstream(manifest: Manifest, unique_id: str) -> bool:
    """Whether a model on a refresh schedule is the node or upstream of it."""
    return any(
        (manifest["nodes"][uid]["config"].get("meta") or {}).get(REFRESH_META)
        for uid in upstream(manifest, unique_id)
        if uid in manifest["nodes"]
    )


def fingerprint(manifest: Manifest, unique_id: str, variables: Mapping[str, Any], refreshed: str = "") -> str:
    """md5 of what the model's rows depend on besides the loads: the checksum, config, column
    types and vars of every model and seed upstream, the source definitions, every macro of the
    project, and the dbt and adapter versions. Every macro, not only a node's
    `depends_on.macros`: dbt records only the macros a parse renders, and `changed_filter`,
    called under `is_incremental()`, is never among them."""
    metadata = manifest["metadata"]
    parts = [f"dbt {metadata.get('dbt_version')}", f"adapter {metadata.get('adapter_type')}"]
    for uid in sorted(upstream(manifest, unique_id)):
        node = manifest["nodes"].get(uid)
        if node is not None:
            columns = ",".join(sorted(f"{name}:{c.get('data_type')}" for name, c in node["columns"].items()))
            config = json.dumps(node["config"], sort_keys=True)
            parts.append(f"{uid} {node['checksum']['checksum']} {config} {columns}")
            for name in sorted(set(_VAR_CALL.findall(node.get("raw_code") or ""))):
                parts.append(f"var {name}={json.dumps(variables.get(name), sort_keys=True)}")
        elif uid in manifest["sources"]:
            # where the lake is (an absolute path from REE_LAKE_DIR) is not how rows are made: a
            # lake moved elsewhere holds the same loads, which the ledger compares anyway
            source = manifest["sources"][uid]
            config = {k: v for k, v in source["config"].items() if k != "external_location"}
            columns = ",".join(
                sorted(f"{name}:{c.get('data_type')}" for name, c in source["columns"].items())
            )
            parts.append(f"{uid} {json.dumps(config, sort_keys=True)} {columns}")
    project = metadata.get("project_name")
    macros = sorted(
        f"macro {m['name']} {hashlib.md5(m['macro_sql'].encode()).hexdigest()}"
        for m in manifest["macros"].values()
        if m["package_name"] == project
    )
    digest = hashlib.md5("\n".join(parts + macros).encode()).hexdigest()
    # a model on a refresh schedule, or built from one: the refresh period is part of what its
    # rows depend on (`@` keeps it readable, so a plan can say a refresh is due, not a code change)
    return f"{digest}@{refreshed}" if refreshed_upstream(manifest, unique_id) else digest


def partition_column(node: Mapping[str, Any]) -> str | None:
    """The column an incremental model replaces by (macro partition_config): its unique_key on
    DuckDB (delete+insert), its partition_by on Spark (insert_overwrite); None for a model that
    has neither (a refresh-scheduled model appending whole)."""
    config = node.get("config") or {}
    if config.get("unique_key"):
        return config["unique_key"]
    partition_by = config.get("partition_by")
    if isinstance(partition_by, list):
        return partition_by[0] if partition_by else None
    return partition_by or None


def test_scopes(manifest: Manifest) -> dict[str, dict[str, str]]:
    """tested relation → {model, column}: each incremental model on its unique key, and each
    view whose `config.meta.incremental_scope` names one (dbt_project.yml), on period_start. A
    model on a refresh schedule has no periods: its tests look at the whole table."""
    models = incremental_models(manifest)
    by_name = {name: manifest["nodes"][uid] for uid, name in models.items()}
    scopes = {
        name: {"model": name, "column": column}
        for name, node in by_name.items()
        if (column := partition_column(node))
    }
    for node in manifest["nodes"].values():
        model = (node.get("config", {}).get("meta") or {}).get(SCOPE_META)
        if model is None or node.get("resource_type") != "model":
            continue
        if model not in by_name:
            raise ValueError(
                f"{node['original_file_path']}: meta {SCOPE_META} names {model!r}, which is not an "
                f"incremental model (there are: {', '.join(sorted(by_name))})"
            )
        scopes[node["name"]] = {"model": model, "column": "period_start"}
    return scopes


def project_variables(project_dir: Path, cli_vars: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The vars a build sees: dbt_project.yml's, then those given with --vars."""
    import yaml

    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    variables = dict(project.get("vars") or {})
    nested = variables.pop(project.get("name"), None)
    if isinstance(nested, dict):
        variables.update(nested)
    return {**variables, **(cli_vars or {})}


def cli_vars(args: Sequence[str]) -> dict[str, Any]:
    """The --vars of a dbt command line (YAML or JSON), else {}."""
    import yaml

    args = list(args)
    if "--vars" not in args:
        return {}
    return yaml.safe_load(args[args.index("--vars") + 1]) or {}


# --- the plan ----------------------------------------------------------------------------------


def period_starts(loads: Iterable[Load]) -> tuple[list[str], list[str]]:
    """(period_start dates YYYY-MM-DD, unreadable periods) of the loads. A year is its 1 January,
    a month its first day, GACC's January+February (YYYY-01/02) 1 January; a year source's
    periods also give the first period of their year."""
    starts, unreadable = set(), set()
    for load in loads:
        for period in (p.strip() for p in (load.periods or "").split(",")):
            if not period:
                continue
            if not _READABLE.fullmatch(period):
                unreadable.add(period)
                continue
            starts.add(f"{period}-01-01" if len(period) == 4 else f"{period[:7]}-01")
            if load.source in YEAR_SOURCES:
                starts.add(f"{period[:4]}-01-01")
    return sorted(starts), sorted(unreadable)


def plan(
    manifest: Manifest,
    landed: Iterable[Load],
    ledger: Ledger | None,
    existing: Iterable[str],
    *,
    selected: Iterable[str] | None = None,
    full_refresh: bool = False,
    variables: Mapping[str, Any] | None = None,
    refreshed: str = "",
) -> Plan:
    """What this build does to each incremental model (a pure function of its arguments).

    `landed`: the landed loads of the lake; `ledger`: build_state, or None when it does not
    exist; `existing`: the names of the models whose table exists; `selected`: the unique_ids
    this build runs (None: all)."""
    models = incremental_models(manifest)
    by_source: dict[str, set[Load]] = {}
    for load in landed:
        by_source.setdefault(load.source, set()).add(load)
    chosen = None if selected is None else frozenset(selected)
    existing = set(existing)
    variables = variables or {}
    inputs: dict[str, frozenset[Load]] = {}

    def input_of(uid: str) -> frozenset[Load]:
        """The loads the model is built from: the landed loads of its lake sources; for a model
        that reads another incremental model, that model's input when it is built in this run,
        else its ledger (plus the loads of any lake source it reads by another path)."""
        if uid in inputs:
            return inputs[uid]
        node = manifest["nodes"][uid]
        parents = [p for p in node["depends_on"]["nodes"] if p in models]
        if not parents:
            found = frozenset(load for s in lake_sources(manifest, uid) for load in by_source.get(s, ()))
        else:
            found = None
            inherited: set[str] = set()
            for parent in parents:
                if chosen is None or parent in chosen:
                    loads = input_of(parent)
                else:
                    loads = (ledger.loads.get(models[parent]) if ledger else None) or frozenset()
                found = loads if found is None else found & loads
                inherited |= lake_sources(manifest, parent)
            own = lake_sources(manifest, uid) - inherited
            found = found | frozenset(load for s in own for load in by_source.get(s, ()))
        inputs[uid] = found
        return found

    out = {}
    for uid, name in sorted(models.items(), key=lambda item: item[1]):
        node = manifest["nodes"][uid]
        column = partition_column(node) or "period_start"
        loads = input_of(uid)
        current = fingerprint(manifest, uid, variables, refreshed)

        def full(reason: str, *, _c: str = column, _f: str = current, _l: frozenset = loads) -> ModelPlan:
            return ModelPlan(full=True, reason=reason, column=_c, fingerprint=_f, inputs=_l)

        stored = ledger.fingerprints.get(name) if ledger else None
        if full_refresh:
            out[name] = full(FULL_REFRESH)
        elif name not in existing:
            out[name] = full(NO_TABLE)
        elif ledger is None or stored is None:
            out[name] = full(NO_STATE)
        elif stored == PARTIAL:
            out[name] = full(LAST_PARTIAL)
        elif stored != current and stored.partition("@")[0] == current.partition("@")[0]:
            if refresh_due(stored, current):
                out[name] = full(SCHEDULED.format(last=stored.partition("@")[2] or "never"))
            else:
                out[name] = _changed(current, column, loads, ledger.loads.get(name, frozenset()))
        elif stored != current:
            out[name] = full(CODE_CHANGED)
        else:
            out[name] = _changed(current, column, loads, ledger.loads.get(name, frozenset()))
    return Plan(models=out, scopes=test_scopes(manifest), selected=chosen, refreshed=refreshed)


def _changed(current: str, column: str, loads: frozenset[Load], built: frozenset[Load]) -> ModelPlan:
    """The plan of a model whose code did not change: the periods of the loads it gains or loses."""
    periods, unreadable = period_starts(loads ^ built)
    if unreadable:
        return ModelPlan(True, "unreadable periods " + ", ".join(unreadable), (), column, current, loads)
    return ModelPlan(False, "", tuple(periods), column, current, loads)


def ledger_rows(
    plan: Plan,
    manifest: Manifest,
    run_results: Mapping[str, Any],
    ledger: Ledger | None,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, tuple[str, frozenset[Load]]] | None:
    """model → (fingerprint, loads) to record after the build of `run_results`, or None when a
    node failed (nothing is recorded then). `manifest` is the build's own: the fingerprint is
    that of the code that ran. A model built from upstream models or seeds this build did not
    run, or incrementally from code other than the code it was planned on, records
    `partial build` unless its fingerprint did not change."""
    results = run_results.get("results", [])
    if any(r.get("status") in _FAILED for r in results):
        return None
    ran = {r["unique_id"] for r in results}
    built = {r["unique_id"] for r in results if r.get("status") == "success"}
    rows = {}
    for uid, name in incremental_models(manifest).items():
        if uid not in built or name not in plan.models:
            continue
        planned = plan.models[name]
        current = fingerprint(manifest, uid, variables or {}, plan.refreshed)
        stored = ledger.fingerprints.get(name) if ledger else None
        skipped = [
            up
            for up in upstream(manifest, uid)
            if up in manifest["nodes"]
            and manifest["nodes"][up]["resource_type"] in ("model", "seed", "snapshot")
            and up not in ran
        ]
        stale = not planned.full and planned.fingerprint != current
        if (skipped and stored != current) or stale:
            current = PARTIAL
        rows[name] = (current, planned.inputs)
    return rows


# --- the warehouse -----------------------------------------------------------------------------


def read_landed_loads(load_log_dir: Path) -> list[Load]:
    """The landed loads of every source's load log (`<load_log_dir>/<source>/*.parquet`)."""
    import duckdb

    files = sorted(str(p) for p in load_log_dir.glob("*/*.parquet"))
    if not files:
        return []
    con = duckdb.connect()
    try:
        rows = con.execute(
            "select cast(source as varchar), cast(load_id as varchar), cast(loaded_at as timestamp), "
            "cast(periods as varchar) from read_parquet(?, union_by_name = true) where status = 'landed'",
            [files],
        ).fetchall()
    except duckdb.Error as error:
        raise ValueError(f"cannot read the load logs under {load_log_dir}: {error}") from error
    finally:
        con.close()
    return [Load(*row) for row in rows]


def _tables(con: Any) -> set[tuple[str, str]]:
    return {
        (schema, table)
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }


def read_ledger(con: Any) -> Ledger | None:
    tables = _tables(con)
    if not {(STATE_SCHEMA, "incremental_models"), (STATE_SCHEMA, "incremental_loads")} <= tables:
        return None
    fingerprints = dict(
        con.execute("select model, fingerprint from build_state.incremental_models").fetchall()
    )
    loads: dict[str, set[Load]] = {}
    for model, *row in con.execute(
        "select model, source, load_id, loaded_at, periods from build_state.incremental_loads"
    ).fetchall():
        loads.setdefault(model, set()).add(Load(*row))
    return Ledger(fingerprints, {m: frozenset(v) for m, v in loads.items()})


def write_ledger(con: Any, rows: Mapping[str, tuple[str, frozenset[Load]]], invocation_id: str) -> None:
    """The state of every built model, in one transaction: all of it, or none."""
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists build_state")
        con.execute(
            "create table if not exists build_state.incremental_models "
            "(model varchar, fingerprint varchar, built_at timestamp, invocation_id varchar)"
        )
        con.execute(
            "create table if not exists build_state.incremental_loads "
            "(model varchar, source varchar, load_id varchar, loaded_at timestamp, periods varchar)"
        )
        for model, (current, loads) in sorted(rows.items()):
            con.execute("delete from build_state.incremental_loads where model = ?", [model])
            if loads:
                con.executemany(
                    "insert into build_state.incremental_loads values (?, ?, ?, ?, ?)",
                    [
                        [model, load.source, load.load_id, load.loaded_at, load.periods]
                        for load in sorted(loads)
                    ],
                )
            con.execute("delete from build_state.incremental_models where model = ?", [model])
            con.execute(
                "insert into build_state.incremental_models values (?, ?, current_timestamp::timestamp, ?)",
                [model, current, invocation_id],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


@contextlib.contextmanager
def _connect(warehouse_path: Path) -> Iterator[Any]:
    import duckdb

    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse_path))
    try:
        yield con
    finally:
        con.close()


# Full rebuilds that may change a table's columns: on an engine without rename-aside (Spark),
# the build runs with --full-refresh (dbt drops and recreates the incremental tables).
_RESHAPING = frozenset({CODE_CHANGED, LAST_PARTIAL, NO_STATE})


def begin(
    warehouse_path: Path,
    manifest: Manifest,
    load_log_dir: Path,
    *,
    selected: Iterable[str] | None = None,
    full_refresh: bool = False,
    variables: Mapping[str, Any] | None = None,
    engine_tables: Iterable[tuple[str, str]] | None = None,
) -> Plan:
    """Plan the build, and rename aside each selected model it rebuilds whole. Call it under the
    warehouse lock, before dbt starts (dbt needs the warehouse to itself).

    `engine_tables`: the (schema, table) an engine other than DuckDB holds (Spark); the ledger
    stays in `warehouse_path`, nothing is renamed, and a whole rebuild that may change columns
    makes the plan a `--full-refresh` one (`Plan.full_refresh`)."""
    landed = read_landed_loads(load_log_dir)
    models = {name: manifest["nodes"][uid] for uid, name in incremental_models(manifest).items()}
    with _connect(warehouse_path) as con:
        if engine_tables is None:
            _restore_renamed(con, models)
            tables = _tables(con)
        else:
            tables = set(engine_tables)
        existing = {
            name for name, node in models.items() if (node["schema"], node.get("alias") or name) in tables
        }

        def plan_with(refresh: bool) -> Plan:
            return plan(
                manifest,
                landed,
                read_ledger(con),
                existing,
                selected=selected,
                full_refresh=refresh,
                variables=variables,
                refreshed=refresh_token(),
            )

        the_plan = plan_with(full_refresh)
        rebuilt = [
            (name, models[name])
            for name, model_plan in the_plan.models.items()
            if model_plan.full
            and model_plan.reason != FULL_REFRESH
            and name in existing
            and (the_plan.selected is None or models[name]["unique_id"] in the_plan.selected)
        ]
        if engine_tables is not None:
            if any(the_plan.models[name].reason in _RESHAPING for name, _ in rebuilt):
                return dataclasses.replace(plan_with(True), full_refresh=True)
            return dataclasses.replace(the_plan, full_refresh=full_refresh)
        renamed = []
        for name, node in rebuilt:
            table = node.get("alias") or name
            con.execute(
                f"alter table {identifier(node['schema'])}.{identifier(table)} "
                f"rename to {identifier(table + BACKUP_SUFFIX)}"
            )
            renamed.append((node["schema"], table))
    return dataclasses.replace(the_plan, renamed=tuple(renamed), full_refresh=full_refresh)


def _restore_renamed(con: Any, models: Mapping[str, Any]) -> None:
    """A table renamed aside by a build that was killed before `finish`: back in its place when
    dbt did not rebuild it (it matches the ledger), else dropped."""
    tables = _tables(con)
    for name, node in models.items():
        table = node.get("alias") or name
        if (node["schema"], table + BACKUP_SUFFIX) not in tables:
            continue
        if (node["schema"], table) in tables:
            con.execute(f"drop table {identifier(node['schema'])}.{identifier(table + BACKUP_SUFFIX)}")
        else:
            con.execute(
                f"alter table {identifier(node['schema'])}.{identifier(table + BACKUP_SUFFIX)} "
                f"rename to {identifier(table)}"
            )


def finish(
    warehouse_path: Path,
    the_plan: Plan,
    target_dir: Path,
    *,
    succeeded: bool,
    variables: Mapping[str, Any] | None = None,
) -> bool:
    """After dbt: on success record the ledger from the build's own manifest and run results and
    drop the tables renamed aside; otherwise put back each renamed table dbt did not rebuild,
    and leave the ledger as it was. True when the ledger was written."""
    run_results: dict = {}
    results_path = target_dir / "run_results.json"
    if succeeded and results_path.exists():
        run_results = json.loads(results_path.read_text())
    with _connect(warehouse_path) as con:
        rows = None
        if run_results:
            manifest = load_manifest(target_dir / "manifest.json")
            rows = ledger_rows(the_plan, manifest, run_results, read_ledger(con), variables)
            if rows is not None:
                write_ledger(con, rows, run_results.get("metadata", {}).get("invocation_id", ""))
        tables = _tables(con)
        for schema, table in the_plan.renamed:
            if (schema, table + BACKUP_SUFFIX) not in tables:
                continue
            if rows is None and (schema, table) not in tables:
                con.execute(
                    f"alter table {identifier(schema)}.{identifier(table + BACKUP_SUFFIX)} "
                    f"rename to {identifier(table)}"
                )
            else:
                con.execute(f"drop table {identifier(schema)}.{identifier(table + BACKUP_SUFFIX)}")
    return rows is not None


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the dbt manifest {path}: {error}; run `dbt parse`") from error


# --- a build from a script or a test -----------------------------------------------------------


def stale_manifest(manifest_path: Path, project_dir: Path) -> str | None:
    """Why the manifest cannot be planned on (missing, or older than a file or folder of the
    project: a folder's time changes when a file in it is deleted), or None."""
    if not manifest_path.exists():
        return f"no {manifest_path}"
    parsed = manifest_path.stat().st_mtime
    for path in _project_files(project_dir):
        if path.stat().st_mtime > parsed:
            return f"{path} changed after {manifest_path} was written"
    return None


def _project_files(root: Path, *, top: bool = True) -> Iterator[Path]:
    """The files and folders of a dbt project, without dbt's own output. The project folder
    itself is left out: dbt creates logs/ and target/ in it."""
    if not top:
        yield root
    for path in root.iterdir():
        if path.name in _PROJECT_SKIP or path.name.startswith((".", "target-")):
            continue
        if path.is_dir():
            yield from _project_files(path, top=False)
        else:
            yield path


R = TypeVar("R")


def build(
    run: Callable[[Sequence[str], Mapping[str, str]], R],
    exit_code: Callable[[R], int],
    *,
    project_dir: Path,
    target_dir: Path,
    data_dir: Path,
    warehouse_path: Path | None = None,
    args: Sequence[str] = BUILD_ARGS,
    engine: str = "duckdb",
) -> R:
    """`dbt build` with the plan, for callers that run dbt themselves (tests, the benchmark):
    `run(arguments, extra environment)` runs dbt with `--target-path target_dir` on the lake of
    `data_dir` (Settings paths) and `warehouse_path` (default: the data dir's). Parses first when
    the manifest in `target_dir` is stale; plans, builds and records the ledger under the
    warehouse lock, as the Dagster asset does. `engine="spark"` builds on Spark (the extra
    environment then carries the Spark target, paths and lake tables) and copies Spark's marts
    into `warehouse_path` after a green build (warehouse/spark.py)."""
    from dagster_project.lib.locks import warehouse_lock
    from dagster_project.settings import Lake, Settings

    settings = Settings(inbox_dir=data_dir, data_dir=data_dir, engine=engine)
    warehouse_path = warehouse_path or settings.warehouse_path
    engine_env: dict[str, str] = {}
    if engine == "spark":
        from dagster_project.warehouse import spark

        engine_env = spark.build_env(settings)
    manifest_path = target_dir / "manifest.json"
    stale = stale_manifest(manifest_path, project_dir)
    if stale and exit_code(run(["parse", "--quiet"], engine_env)) != 0:
        raise RuntimeError(f"dbt parse of {project_dir} failed ({stale})")
    variables = project_variables(project_dir, cli_vars(args))
    with warehouse_lock(settings.lock_path):
        manifest = load_manifest(manifest_path)
        the_plan = begin(
            warehouse_path,
            manifest,
            Lake(settings.lake_dir).load_log_root,
            full_refresh=FULL_REFRESH in args,
            variables=variables,
            engine_tables=spark.existing_tables(settings.spark_warehouse) if engine == "spark" else None,
        )
        if the_plan.full_refresh and FULL_REFRESH not in args:
            args = [*args, FULL_REFRESH]
        result = None
        succeeded = False
        try:
            result = run(list(args), {**engine_env, **the_plan.env()})
            if exit_code(result) == 0 and engine == "spark":
                spark.copy_to_duckdb(settings.spark_warehouse, manifest, warehouse_path)
            succeeded = exit_code(result) == 0  # and, on Spark, the marts copied
            if engine == "spark" and not succeeded:
                spark.set_aside_orphaned_tables(settings.spark_warehouse, target_dir / "run_results.json")
        finally:
            finish(warehouse_path, the_plan, target_dir, succeeded=succeeded, variables=variables)
    return result
