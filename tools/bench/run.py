#!/usr/bin/env python3
"""`make bench`: generate inputs, measure, write tools/bench/results/latest.json and print a table.

    python tools/bench/run.py                          # sizes 1e4,1e5,1e6 (about 15 minutes on 2 cores)
    python tools/bench/run.py --full                   # adds 1e7 (Comtrade and GACC CSV ingest, dbt)
    BENCH_SIZES=1e4,1e5 python tools/bench/run.py      # any sizes
    python tools/bench/run.py --sections ingest,bi     # ingest, dbt, bi, e2e (default: all)

Every figure is measured in this run, side by side on this machine: ingest throughput is set
against plain polars and DuckDB reads of the same file and against pandas, so ratios hold across
machines where absolute seconds do not. Each measurement is its own process; its peak RSS comes
from the kernel (wait4). Generated data lives under $BENCH_WORKDIR (default /tmp/ree-bench) and
is reused while tools/bench/generate.py is unchanged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parents[1]
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(ROOT))
import generate  # noqa: E402

from dagster_project.warehouse import incremental  # noqa: E402
from dagster_project.warehouse.incremental import BUILD_ARGS  # noqa: E402
from tools.compare import compare_marts  # noqa: E402

RESULTS = BENCH / "results"
PYTHON = sys.executable
TIME = Path("/usr/bin/time")
DBT = str(Path(sys.executable).parent / "dbt")
DEFAULT_SIZES = "1e4,1e5,1e6"
FULL_SIZE = 10_000_000
RSS_LIMIT_MB = float(os.environ.get("BENCH_RSS_LIMIT_GB", "16")) * 1024
# Comtrade API v1 answers at most 250,000 records per call: a bigger JSON file is not a real file.
JSON_MAX_ROWS = 1_000_000
WARMUP_ROWS = 2_000
DBT_REPEATS = int(os.environ.get("BENCH_DBT_REPEATS", "2"))  # builds per measurement up to 1e6 rows
ENV = {
    **os.environ,
    "GX_ANALYTICS_ENABLED": "false",
    "DAGSTER_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "PYTHONWARNINGS": "ignore",
}
ENV.pop("DAGSTER_HOME", None)


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


# --- running one measurement -------------------------------------------------------------------


def _tree_rss_mb(pid: int) -> float:
    """Resident set of a process and its descendants (dbt runs DuckDB in its own process)."""
    total, stack, seen = 0.0, [pid], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
            with open(f"/proc/{current}/task/{current}/children") as handle:
                stack += [int(c) for c in handle.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run_process(command: list[str], *, name: str, env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run a command; return wall seconds, peak RSS (kernel, wait4), exit status, output files.
    A watchdog kills it (and says so) if its tree's RSS passes BENCH_RSS_LIMIT_GB."""
    logs = WORKDIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / f"{name}.out", logs / f"{name}.err"
    env = dict(env or ENV)
    env["BENCH_T0"] = repr(time.time())
    # Peak RSS from /usr/bin/time: the kernel's ru_maxrss of a forked child counts the parent's
    # image from before exec, /usr/bin/time's own child starts from time's tiny image.
    peak_file = logs / f"{name}.maxrss"
    peak_file.unlink(missing_ok=True)
    if TIME.exists():
        command = [str(TIME), "-f", "%M", "-o", str(peak_file), *command]
    started = time.perf_counter()
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        process = subprocess.Popen(
            command, stdout=stdout, stderr=stderr, env=env, cwd=cwd, start_new_session=True
        )
    watch = {"peak_tree_mb": 0.0, "killed": False}

    def watchdog() -> None:
        while process.returncode is None and not watch.get("done"):
            rss = _tree_rss_mb(process.pid)
            watch["peak_tree_mb"] = max(watch["peak_tree_mb"], rss)
            if rss > RSS_LIMIT_MB:
                watch["killed"] = True
                os.killpg(process.pid, 9)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watchdog, daemon=True)
    thread.start()
    _, status, _usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    watch["done"] = True
    thread.join()
    peak = watch["peak_tree_mb"]  # sampled every 50 ms: the fallback without /usr/bin/time
    try:
        peak = int(peak_file.read_text().strip().splitlines()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return {
        "wall_seconds": time.perf_counter() - started,
        "peak_rss_mb": peak,
        "sampled_peak_tree_mb": watch["peak_tree_mb"],
        "exit": process.returncode,
        "killed_over_limit": watch["killed"],
        "stdout": out,
        "stderr": err,
    }


def measure(task: str, name: str, **options) -> dict:
    command = [PYTHON, str(BENCH / "measure.py"), task]
    for key, value in options.items():
        command += [f"--{key}", str(value)]
    run = run_process(command, name=name)
    result = {"task": task, "peak_rss_mb": run["peak_rss_mb"], "wall_seconds": run["wall_seconds"]}
    lines = run["stdout"].read_text(errors="replace").strip().splitlines()
    if run["exit"] != 0 or not lines:
        tail = run["stderr"].read_text(errors="replace").strip().splitlines()[-3:]
        reason = (
            f"killed: RSS over {RSS_LIMIT_MB / 1024:.0f} GB" if run["killed_over_limit"] else " | ".join(tail)
        )
        result["error"] = reason[:500]
        return result
    result.update(json.loads(lines[-1]))
    return result


def repeated(task: str, name: str, repeats: int, **options) -> dict:
    """The median run of `repeats` (by timed seconds), with every run's seconds kept."""
    runs = [measure(task, f"{name}-{i}", **options) for i in range(repeats)]
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    good.sort(key=lambda r: r["seconds"])
    best = dict(good[len(good) // 2])
    best["runs_seconds"] = [round(r["seconds"], 4) for r in runs if "error" not in r]
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in good)
    if best.get("rows"):
        best["rows_per_s"] = best["rows"] / best["seconds"]
    return best


# --- inputs ------------------------------------------------------------------------------------

GENERATOR_HASH = hashlib.sha256((BENCH / "generate.py").read_bytes()).hexdigest()[:10]


def generated_input(kind: str, rows: int) -> tuple[Path, Path, float]:
    """(inbox, file, seconds to generate): one generated file in an inbox layout of its own."""
    source, fmt = kind.split("-")
    folder = WORKDIR / "inputs" / f"{kind}-{rows}-{GENERATOR_HASH}"
    relative = {
        "comtrade-csv": "comtrade/comtrade.csv",
        "comtrade-json": "comtrade/comtrade.json",
        "gacc-csv": "gacc/exports/gacc_exports.csv",
        "census-json": "census/census_exports.json",
    }[kind]
    path = folder / relative
    done = folder / ".done"
    if done.exists():
        return folder, path, json.loads(done.read_text())["seconds"]
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    if kind == "comtrade-csv":
        generate.write_comtrade_csv(path, rows)
    elif kind == "comtrade-json":
        generate.write_comtrade_json(path, rows)
    elif kind == "gacc-csv":
        generate.write_gacc_csv(path, rows)
    else:
        generate.write_census_json(path, rows, flow="export")
    seconds = time.perf_counter() - started
    done.write_text(json.dumps({"seconds": seconds}))
    return folder, path, seconds


# --- ingest ------------------------------------------------------------------------------------

# (kind, method) → measure task, and the sizes each applies to
FLOORS = {
    "csv": ["polars_read_csv", "polars_scan_csv", "duckdb_read_csv"],
    "json": ["polars_read_json", "duckdb_read_json"],
}


def ingest_plan(sizes: list[int]) -> list[tuple[str, int, list[str]]]:
    census_cap = generate.census_capacity(flow="export")
    plan = []
    for rows in sizes:
        gx = ["gx_product", "gx_numpy_boolean"] if rows <= 1_000_000 else []
        methods = ["product", *FLOORS["csv"], "pandas_duckdb", "pandas_to_sql", *gx]
        plan.append(("comtrade-csv", rows, methods))
        plan.append(("gacc-csv", rows, ["product", "polars_read_csv", "pandas_duckdb", "pandas_to_sql"]))
        if rows <= JSON_MAX_ROWS and (rows < 1_000_000 or FULL):
            plan.append(("comtrade-json", rows, ["product", *FLOORS["json"], "pandas_duckdb"]))
        if rows <= census_cap:
            plan.append(
                ("census-json", rows, ["product", "python_json_polars", "duckdb_read_json", "pandas_duckdb"])
            )
    return plan


def run_ingest(sizes: list[int]) -> list[dict]:
    results = []
    for kind, rows, methods in ingest_plan(sizes):
        try:
            inbox, path, gen_seconds = generated_input(kind, rows)
        except Exception as err:  # noqa: BLE001 (one input that cannot be made must not stop the run)
            log(f"ingest {kind} {rows:,}: cannot generate: {err}")
            results.append(
                {"kind": kind, "rows": rows, "error": f"generate: {err}", "methods": {}, "ratios": {}}
            )
            continue
        source, fmt = kind.split("-")
        log(
            f"ingest {kind} {rows:,} rows ({path.stat().st_size / 1e6:,.0f} MB, generated in {gen_seconds:.1f} s)"
        )
        group = {"kind": kind, "source": source, "format": fmt, "rows": rows, "file_mb": path.stat().st_size / 1e6,
                 "generate_seconds": gen_seconds, "methods": {}}  # fmt: skip
        for method in methods:
            if method == "pandas_to_sql" and rows > 1_000_000:
                continue  # minutes per run: the trend is clear by 1e6
            repeats = REPEATS if rows <= 100_000 and not method.startswith("gx_") else 1
            options = {"path": path, "source": source, "format": fmt,
                       "encoding": "gbk" if source == "gacc" else "utf-8"}  # fmt: skip
            task = method
            if method.startswith("gx_"):
                task, options["variant"] = "gx_only", method[3:]
            if method == "product":
                warmup, _, _ = generated_input(kind, WARMUP_ROWS)
                options = {
                    "inbox": inbox,
                    "lake": WORKDIR / "lake-ingest",
                    "source": source,
                    "warmup": warmup,
                }
            if method in ("pandas_duckdb", "pandas_to_sql"):
                options["lake"] = WORKDIR / "lake-pandas"
            result = repeated(task, f"{kind}-{rows}-{method}", repeats, **options)
            group["methods"][method] = result
            if "error" in result:
                log(f"  {method:<20} ERROR {result['error'][:200]}")
            else:
                log(f"  {method:<20} {result['rows_per_s']:>12,.0f} rows/s  {result['seconds']:8.2f} s  "
                    f"peak RSS {result['peak_rss_mb']:8,.0f} MB")  # fmt: skip
        methods_ok = {m: r for m, r in group["methods"].items() if "error" not in r}
        ratios = {}
        if "product" in methods_ok:
            speed = methods_ok["product"]["rows_per_s"]
            ratios["product"] = {
                f"vs_{m}": speed / r["rows_per_s"]
                for m, r in methods_ok.items()
                if m != "product" and not m.startswith("gx_")
            }
        group["ratios"] = ratios
        results.append(group)
        shutil.rmtree(WORKDIR / "lake-ingest", ignore_errors=True)
        shutil.rmtree(WORKDIR / "lake-pandas", ignore_errors=True)
    return results


# --- dbt ---------------------------------------------------------------------------------------


def dbt_env(data_dir: Path) -> dict:
    return {
        **ENV,
        "REE_DATA_DIR": str(data_dir),
        "REE_LAKE_DIR": str(data_dir / "lake"),
        "REE_WAREHOUSE_PATH": str(data_dir / "warehouse.duckdb"),
    }


def dbt(
    project: Path, data_dir: Path, target: Path, name: str, *arguments: str, engine: str = "duckdb"
) -> dict:
    """One dbt command; a build goes through the product's planner (warehouse/incremental.py:
    plan, build, ledger), and its seconds include the planning and the ledger (and on Spark the
    copy of its marts into the DuckDB file publish reads)."""

    def run_dbt_process(args: list[str], extra_env: dict[str, str]) -> dict:
        command = [DBT, *args, "--project-dir", str(project), "--profiles-dir", str(project),
                   "--target-path", str(target), "--log-path", str(target / "logs")]  # fmt: skip
        step = name if args[0] == arguments[0] else f"{name}-{args[0]}"
        return run_process(command, name=step, env={**dbt_env(data_dir), **extra_env}, cwd=project)

    started = time.perf_counter()
    if arguments[0] == "build":
        run = incremental.build(
            run_dbt_process, lambda r: r["exit"], project_dir=project, target_dir=target,
            data_dir=data_dir, args=arguments, engine=engine,
            warehouse_path=data_dir / "spark" / "warehouse.duckdb" if engine == "spark" else None,
        )  # fmt: skip
    else:
        run = run_dbt_process(list(arguments), {})
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "peak_rss_mb": run["peak_rss_mb"], "exit": run["exit"]}
    # the whole process tree, sampled: on Spark the JVM is dbt's child but is not waited for, so
    # the kernel's peak (peak_rss_mb) is the dbt process alone
    result["peak_tree_mb"] = run["sampled_peak_tree_mb"]
    result["planner_seconds"] = seconds - run["wall_seconds"]
    results_file = target / "run_results.json"
    if arguments[0] == "build" and results_file.exists():
        payload = json.loads(results_file.read_text())
        by_type: dict[str, float] = {}
        statuses: dict[str, int] = {}
        slowest = []
        for node in payload["results"]:
            kind = node["unique_id"].split(".")[0]
            by_type[kind] = by_type.get(kind, 0.0) + node["execution_time"]
            statuses[node["status"]] = statuses.get(node["status"], 0) + 1
            slowest.append((node["execution_time"], node["unique_id"].split(".", 2)[-1]))
        slowest.sort(reverse=True)
        # the reconciliation's nodes (its rates, weights, flows and their tests), apart
        result["reconcile_seconds"] = sum(
            node["execution_time"] for node in payload["results"] if "reconciled_flows" in node["unique_id"]
        )
        result.update(
            nodes_seconds=payload["elapsed_time"],
            startup_seconds=run["wall_seconds"] - payload["elapsed_time"],
            by_type=by_type,
            statuses=statuses,
            slowest=[{"node": n, "seconds": s} for s, n in slowest[:8]],
        )
        # kept per step (the next dbt command would overwrite it), to compare node by node
        results_file.rename(target / f"run_results-{name}.json")
    if run["exit"] != 0:
        result["error"] = " | ".join(run["stdout"].read_text(errors="replace").strip().splitlines()[-4:])[
            :600
        ]
    return result


def _fastest(runs: list[dict]) -> dict:
    """The fastest of repeated builds (this VM's timing noise is about ±15 %), every run kept."""
    good = [r for r in runs if "error" not in r] or runs
    best = dict(min(good, key=lambda r: r["seconds"]))
    best["runs_seconds"] = [round(r["seconds"], 1) for r in runs]
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best


def lake_for(rows: int) -> tuple[Path, dict]:
    """An inbox of ten years (+ the new month beside it), generated once per size."""
    folder = WORKDIR / "lakes" / f"{rows}-{GENERATOR_HASH}"
    done = folder / ".done"
    if done.exists():
        return folder, json.loads(done.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    history = generate.write_inbox(folder / "inbox", rows)
    month = generate.write_new_month(folder / "month", rows)
    info = {"history_rows": history, "month_rows": month, "generate_seconds": time.perf_counter() - started}
    done.write_text(json.dumps(info))
    return folder, info


# What the product's dbt asset runs (dagster_project/warehouse/incremental.py BUILD_ARGS): dbt
# unit tests run in `make test`, not in every build; they are timed apart below.
PRODUCT_BUILD = BUILD_ARGS
STATE_TABLES = ("incremental_models", "incremental_loads")


def build_state(warehouse: Path, action: str) -> None:
    """Save the incremental build state (dagster_project/warehouse/incremental.py) before the +1 month build, or
    restore it, so that the same incremental build can be timed again."""
    import duckdb

    con = duckdb.connect(str(warehouse))
    try:
        for table in STATE_TABLES:
            saved, live = f"build_state.{table}_saved", f"build_state.{table}"
            source, copy = (live, saved) if action == "save" else (saved, live)
            con.execute(f"create or replace table {copy} as select * from {source}")  # noqa: S608
    finally:
        con.close()


def incremental_runs(warehouse: Path) -> dict:
    """What each incremental model did in the last dbt invocation (mode, reason, periods)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select model, mode, reason, periods from build_state.incremental_runs where invocation_id = "
            "(select invocation_id from build_state.incremental_runs order by started_at desc limit 1)"
        ).fetchall()
    finally:
        con.close()
    return {m: {"mode": mode, "reason": reason, "periods": periods} for m, mode, reason, periods in rows}


def run_dbt(sizes: list[int]) -> tuple[list[dict], dict | None]:
    """Per size: a full build of ten years, then one new month built incrementally (the product's
    own build, planned by dagster_project/warehouse/incremental.py), a build with nothing new, the unit tests apart, and a
    --full-refresh build of the same lake in a second warehouse that the incremental marts must
    equal."""
    results, serving = [], None
    for rows in sizes:
        folder, info = lake_for(rows)
        log(f"dbt {rows:,} trade rows: {info['history_rows']} + new month {info['month_rows']}")
        entry: dict = {"rows": rows, **info}
        data = WORKDIR / "dbt-data" / str(rows)
        shutil.rmtree(data, ignore_errors=True)
        ingest = measure(
            "ingest_inbox", f"dbt-{rows}-ingest-history", inbox=folder / "inbox", lake=data / "lake"
        )
        if "error" in ingest:
            entry["error"] = ingest["error"]
            results.append(entry)
            log(f"  ingest ERROR {ingest['error']}")
            continue
        entry["ingest_history"] = {k: ingest[k] for k in ("seconds", "rows", "peak_rss_mb")}
        project, target = ROOT / "dbt", WORKDIR / "dbt-target" / f"product-{rows}"
        warehouse = data / "warehouse.duckdb"
        repeats = DBT_REPEATS if rows <= 1_000_000 else 1
        shutil.rmtree(target, ignore_errors=True)
        dbt(project, data, target, f"dbt-{rows}-parse", "parse", "--quiet")
        # the first build of an empty warehouse is a full one; later ones must ask for it
        runs = [
            dbt(
                project,
                data,
                target,
                f"dbt-{rows}-full-{i}",
                *PRODUCT_BUILD,
                *(("--full-refresh",) if i else ()),
            )
            for i in range(repeats)
        ]
        build = entry["product_full"] = _fastest(runs)
        log(f"  full build            {build['seconds']:7.1f} s  peak RSS {build['peak_rss_mb']:,.0f} MB"
            f"  runs {build['runs_seconds']}" + (f"  ERROR {build['error']}" if "error" in build else ""))  # fmt: skip
        unit = dbt(project, data, target, f"dbt-{rows}-unit-tests", "test", "--select", "test_type:unit")
        entry["unit_tests"] = {k: unit.get(k) for k in ("seconds", "error")}
        month = measure(
            "ingest_inbox", f"dbt-{rows}-ingest-month", inbox=folder / "month", lake=data / "lake"
        )
        entry["ingest_month"] = {k: month.get(k) for k in ("seconds", "rows", "peak_rss_mb", "error")}
        runs = []
        for i in range(repeats):
            build_state(warehouse, "save" if i == 0 else "restore")  # the same incremental work again
            runs.append(dbt(project, data, target, f"dbt-{rows}-month-{i}", *PRODUCT_BUILD))
        build = entry["product_month"] = _fastest(runs)
        build["incremental_runs"] = incremental_runs(warehouse)
        entry["product_ratio"] = build["seconds"] / entry["product_full"]["seconds"]
        log(f"  build after month     {build['seconds']:7.1f} s  ({100 * entry['product_ratio']:.0f} % of full)"
            f"  runs {build['runs_seconds']}" + (f"  ERROR {build['error']}" if "error" in build else ""))  # fmt: skip
        for model, run in build["incremental_runs"].items():
            log(f"    {model}: {run['mode']} {run['reason'] or run['periods']}")
        build = entry["product_noop"] = dbt(project, data, target, f"dbt-{rows}-noop", *PRODUCT_BUILD)
        log(f"  build, nothing new    {build['seconds']:7.1f} s")
        # the monthly re-estimate of the reconciliation's rates and weights (what the first build
        # of a calendar month does); after it the marts must equal a full build's
        os.environ[incremental.REFRESH_ENV] = "always"
        try:
            build = entry["product_reestimate"] = dbt(
                project, data, target, f"dbt-{rows}-reestimate", *PRODUCT_BUILD
            )
        finally:
            del os.environ[incremental.REFRESH_ENV]
        build["incremental_runs"] = incremental_runs(warehouse)
        log(
            f"  build, re-estimate    {build['seconds']:7.1f} s  (reconciliation {build.get('reconcile_seconds', 0):.1f} s)"
        )
        # the reference: the same lake built whole in a second warehouse
        reference = WORKDIR / "dbt-data" / f"{rows}-full"
        shutil.rmtree(reference, ignore_errors=True)
        reference.mkdir(parents=True)
        (reference / "lake").symlink_to(data / "lake")
        reference_target = WORKDIR / "dbt-target" / f"full-{rows}"
        shutil.rmtree(reference_target, ignore_errors=True)
        dbt(project, reference, reference_target, f"dbt-{rows}-reference-parse", "parse", "--quiet")
        build = entry["product_full_after_month"] = dbt(
            project, reference, reference_target, f"dbt-{rows}-reference", *PRODUCT_BUILD, "--full-refresh"
        )
        log(f"  full build with month {build['seconds']:7.1f} s")
        if "error" not in entry["product_month"] and "error" not in build:
            entry["incremental_matches_full"] = compare_marts(warehouse, reference / "warehouse.duckdb")
            log(
                f"  incremental marts equal to the full build's: {entry['incremental_matches_full']['equal']}"
            )
        serving = data / "serving" / "ree.duckdb"
        pub = measure("publish", f"dbt-{rows}-publish", path=warehouse, out=serving)
        entry["publish"] = {k: pub.get(k) for k in ("seconds", "peak_rss_mb", "error")}
        results.append(entry)
    return results, {"rows": sizes[-1], "serving": serving} if serving else None


# --- Spark -------------------------------------------------------------------------------------


def run_spark(sizes: list[int]) -> list[dict]:
    """Per size: the same lake as the dbt section, built on Spark (dbt-spark, local mode, one
    core) and on DuckDB in the same data dir: a full build, then the new month incrementally;
    Spark's marts and audit tables (copied into DuckDB, as publish reads them) must equal
    DuckDB's. Needs `make setup-spark`."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
        log("spark: skipped (needs `make setup-spark`: the spark dependency group and Java 17)")
        return [{"error": "pyspark or java missing: make setup-spark"}]
    results = []
    for rows in sizes:
        folder, info = lake_for(rows)
        log(f"spark {rows:,} trade rows: {info['history_rows']} + new month {info['month_rows']}")
        entry: dict = {"rows": rows, **info}
        data = WORKDIR / "spark-data" / str(rows)
        shutil.rmtree(data, ignore_errors=True)
        ingest = measure("ingest_inbox", f"spark-{rows}-ingest", inbox=folder / "inbox", lake=data / "lake")
        if "error" in ingest:
            entry["error"] = ingest["error"]
            results.append(entry)
            continue
        project = ROOT / "dbt"
        targets = {engine: WORKDIR / "dbt-target" / f"{engine}-{rows}" for engine in ("duckdb", "spark")}
        for target in targets.values():
            shutil.rmtree(target, ignore_errors=True)
        dbt(project, data, targets["duckdb"], f"spark-{rows}-duckdb-parse", "parse", "--quiet")
        for step, inbox in (("full", None), ("month", folder / "month")):
            if inbox is not None:
                measure("ingest_inbox", f"spark-{rows}-ingest-month", inbox=inbox, lake=data / "lake")
            for engine in ("duckdb", "spark"):
                build = entry[f"{engine}_{step}"] = dbt(
                    project,
                    data,
                    targets[engine],
                    f"spark-{rows}-{engine}-{step}",
                    *PRODUCT_BUILD,
                    engine=engine,
                )
                log(f"  {engine:6} {step:5} {build['seconds']:7.1f} s  peak RSS {build['peak_rss_mb']:,.0f} MB"
                    f" (tree {build['peak_tree_mb']:,.0f} MB)"
                    + (f"  ERROR {build['error']}" if "error" in build else ""))  # fmt: skip
            if all("error" not in entry[f"{engine}_{step}"] for engine in ("duckdb", "spark")):
                entry[f"equal_{step}"] = compare_marts(
                    data / "warehouse.duckdb", data / "spark" / "warehouse.duckdb", ("marts", "audit")
                )
                log(f"  marts and audit equal after {step}: {entry[f'equal_{step}']['equal']}")
        results.append(entry)
    return results


# --- BI ----------------------------------------------------------------------------------------


def run_bi(serving: Path, rows: int) -> dict:
    log(f"BI queries on the serving file of the {rows:,}-row lake")
    result = measure("bi", f"bi-{rows}", path=serving, repeat=30)
    result["lake_rows"] = rows
    if "error" not in result:
        log(
            f"  p50 {result['p50_ms']:.1f} ms  p95 {result['p95_ms']:.1f} ms over {len(result['queries'])} queries"
        )
    return result


# --- end to end --------------------------------------------------------------------------------


def run_e2e() -> dict:
    log("end to end: python -m dagster_project.run on data/samples (DAGSTER_HOME unset)")
    data = WORKDIR / "e2e-data"
    shutil.rmtree(data, ignore_errors=True)
    env = {**ENV, "REE_DATA_DIR": str(data)}
    env.pop("REE_INBOX_DIR", None)
    run = run_process([PYTHON, str(BENCH / "measure.py"), "e2e"], name="e2e", env=env, cwd=ROOT)
    lines = run["stdout"].read_text(errors="replace").strip().splitlines()
    if run["exit"] != 0 or not lines:
        return {"error": " | ".join(run["stderr"].read_text(errors="replace").splitlines()[-3:])}
    result = json.loads(lines[-1])
    result["wall_seconds"] = run["wall_seconds"]
    result["peak_rss_mb"] = run["peak_rss_mb"]
    log(f"  {result['seconds']:.1f} s: " + ", ".join(f"{k} {v:.1f}" for k, v in result["phases"].items()))
    return result


# --- targets and the table ---------------------------------------------------------------------


def targets(report: dict) -> list[dict]:
    out = []
    ingest = {(g["kind"], g["rows"]): g for g in report.get("ingest", [])}
    big = max((r for (k, r) in ingest if k == "comtrade-csv"), default=None)
    if big:
        g = ingest[("comtrade-csv", big)]
        for subject in ("product",):
            ratios = g["ratios"].get(subject, {})
            rss = g["methods"].get(subject, {}).get("peak_rss_mb")
            label = g["methods"].get(subject, {}).get("path", "product")
            if "vs_polars_scan_csv" in ratios:
                out.append(_target(f"ingest {big:.0e} Comtrade CSV vs pl.scan_csv ({label})", ">= 0.50",
                                   ratios["vs_polars_scan_csv"], ratios["vs_polars_scan_csv"] >= 0.5, "x"))  # fmt: skip
            for route in ("pandas_to_sql", "pandas_duckdb"):
                if f"vs_{route}" in ratios:
                    out.append(_target(f"ingest {big:.0e} Comtrade CSV vs {route} ({label})", ">= 5",
                                       ratios[f"vs_{route}"], ratios[f"vs_{route}"] >= 5, "x"))  # fmt: skip
            if rss:
                out.append(
                    _target(
                        f"ingest {big:.0e} Comtrade CSV peak RSS ({label})",
                        "< 2048 MB",
                        rss,
                        rss < 2048,
                        "MB",
                    )
                )
    dbt_runs = [d for d in report.get("dbt", []) if "product_ratio" in d]
    if dbt_runs:
        d = dbt_runs[-1]
        out.append(
            _target(
                f"dbt +1 month / full at {d['rows']:.0e} (incremental)",
                "<= 0.20",
                d["product_ratio"],
                d["product_ratio"] <= 0.2,
                "x",
            )
        )
    bi = report.get("bi")
    if bi and "p95_ms" in bi:
        out.append(
            _target(f"BI p95 on {bi['lake_rows']:.0e} rows", "< 50 ms", bi["p95_ms"], bi["p95_ms"] < 50, "ms")
        )
    e2e = report.get("e2e")
    if e2e and "seconds" in e2e:
        out.append(_target("make run on samples", "< 90 s", e2e["seconds"], e2e["seconds"] < 90, "s"))
    return out


def _target(name, target, measured, met, unit) -> dict:
    return {"target": name, "wanted": target, "measured": round(measured, 3), "unit": unit, "met": bool(met)}


def _fmt_rate(result: dict | None) -> str:
    if not result:
        return "-"
    if "error" in result:
        return "killed" if result["error"].startswith("killed") else "error"
    return f"{result['rows_per_s'] / 1000:,.0f}k"


def _floor(methods: dict) -> tuple[str, dict | None]:
    """The plain-library read the product is set against: pl.scan_csv for CSV, polars for JSON."""
    for name in ("polars_scan_csv", "polars_read_csv", "polars_read_json", "python_json_polars"):
        if name in methods:
            return name, methods[name]
    return "-", None


def _ratio(subject: dict | None, other: dict | None) -> str:
    if not subject or not other or "rows_per_s" not in subject or "rows_per_s" not in other:
        return "-"
    return f"{subject['rows_per_s'] / other['rows_per_s']:.2f}"


def table(report: dict) -> str:
    lines = []
    if report.get("ingest"):
        lines += [
            "### Ingest throughput, rows/s (ratio: product ÷ that route; above 1 the product is faster)",
            "",
            "Floor: `pl.scan_csv` for CSV (`pl.read_csv` after a GB18030 decode for GACC: polars reads "
            "UTF-8 only), `pl.read_json` for Comtrade JSON, `json.loads` + `pl.DataFrame` for Census.",
            "",
            "| input | rows | product | floor | DuckDB | pandas+DuckDB | pandas to_sql | ÷ floor | ÷ DuckDB "
            "| ÷ pandas+DuckDB | ÷ to_sql | product peak RSS MB |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for g in report["ingest"]:
            m = g["methods"]
            prod = m.get("product")
            _, floor = _floor(m)
            duck = m.get("duckdb_read_csv") or m.get("duckdb_read_json")
            pdd, tosql = m.get("pandas_duckdb"), m.get("pandas_to_sql")
            rss = (
                f"{prod['peak_rss_mb']:,.0f}"
                if prod and "error" not in prod
                else (_fmt_rate(prod) if prod else "-")
            )
            if prod and prod.get("error", "").startswith("killed"):
                rss = f"> {RSS_LIMIT_MB:,.0f} (killed)"
            lines.append(
                f"| {g['kind']} | {g['rows']:,} | {_fmt_rate(prod)} | {_fmt_rate(floor)} | {_fmt_rate(duck)} "
                f"| {_fmt_rate(pdd)} | {_fmt_rate(tosql)} | {_ratio(prod, floor)} | {_ratio(prod, duck)} "
                f"| {_ratio(prod, pdd)} | {_ratio(prod, tosql)} | {rss} |"
            )
        lines += [
            "",
            "### Where the product's ingest time goes (seconds; path: whole file, or streamed from "
            "`REE_STREAM_MIN_MB`, 64 MB)",
            "",
            "| input | rows | file MB | path | read + normalise s | GX s | write and rest s | total s "
            "| product peak RSS MB |",
            "|---|--:|--:|---|--:|--:|--:|--:|--:|",
        ]
        for g in report["ingest"]:
            prod = g["methods"].get("product")
            if not prod or "error" in prod:
                continue
            ph = prod.get("phases", {})
            cells = " | ".join(
                f"{ph[k]:.2f}" if k in ph else "-" for k in ("read_and_normalise", "gx", "write_and_rest")
            )
            lines.append(
                f"| {g['kind']} | {g['rows']:,} | {g.get('file_mb', 0):,.0f} | {prod.get('path', '-')} "
                f"| {cells} | {prod['seconds']:.2f} | {prod['peak_rss_mb']:,.0f} |"
            )
        lines.append("")
    gx_rows = [g for g in report.get("ingest", []) if any(m.startswith("gx_") for m in g["methods"])]
    if gx_rows:
        lines += [
            "### GX suite alone on the landing rows (rows/s; same 20 expectations; read and normalise untimed)",
            "",
            "| input | rows | pl.scan_csv | GX SUMMARY (whole-file path) | GX BOOLEAN_ONLY (streamed "
            "path's first look) | SUMMARY ÷ scan_csv | BOOLEAN_ONLY ÷ scan_csv |",
            "|---|--:|--:|--:|--:|--:|--:|",
        ]
        for g in gx_rows:
            m = g["methods"]
            scan = m.get("polars_scan_csv", {}).get("rows_per_s")

            def rel(key, m=m, scan=scan):
                r = m.get(key, {}).get("rows_per_s")
                return f"{r / scan:.2f}" if r and scan else "-"

            lines.append(
                f"| {g['kind']} | {g['rows']:,} | {_fmt_rate(m.get('polars_scan_csv'))} "
                f"| {_fmt_rate(m.get('gx_product'))} | {_fmt_rate(m.get('gx_numpy_boolean'))} "
                f"| {rel('gx_product')} | {rel('gx_numpy_boolean')} |"
            )
        lines.append("")
    if report.get("dbt"):
        lines += [
            "### dbt build (seconds, wall, including dbt start-up; unit tests apart)",
            "",
            "| trade rows | full build | start-up | models | data tests | + 1 month | ratio | nothing new "
            "| full build with the month | incremental = full | unit tests | peak RSS MB |",
            "|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|--:|--:|",
        ]
        for d in report["dbt"]:
            f = d.get("product_full", {})
            bt = f.get("by_type", {})
            eq = d.get("incremental_matches_full", {}).get("equal")
            lines.append(
                f"| {d['rows']:,} | {f.get('seconds', 0):.1f} | {f.get('startup_seconds', 0):.1f} | "
                f"{bt.get('model', 0):.1f} | {bt.get('test', 0):.1f} | "
                f"{d.get('product_month', {}).get('seconds', 0):.1f} | {d.get('product_ratio', float('nan')):.2f} | "
                f"{d.get('product_noop', {}).get('seconds', float('nan')):.1f} | "
                f"{d.get('product_full_after_month', {}).get('seconds', float('nan')):.1f} | "
                f"{'yes' if eq else ('no' if eq is False else '-')} | "
                f"{d.get('unit_tests', {}).get('seconds') or float('nan'):.1f} | {f.get('peak_rss_mb', 0):,.0f} |"
            )
        lines.append("")
        lines += [
            "### dbt build breakdown (seconds; from dbt's run_results.json)",
            "",
            "| trade rows | build | wall | dbt start-up | models | data tests | seeds | hooks "
            "| reconciliation | slowest node |",
            "|--:|---|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        for d in report["dbt"]:
            for key, label in (("product_full", "full"), ("product_month", "+1 month"),
                               ("product_noop", "nothing new"), ("product_reestimate", "monthly re-estimate"),
                               ("product_full_after_month", "full, with the month")):  # fmt: skip
                b = d.get(key)
                if not b or "by_type" not in b:
                    continue
                bt, slow = b["by_type"], (b.get("slowest") or [{}])[0]
                lines.append(
                    f"| {d['rows']:,} | {label} | {b['seconds']:.1f} | {b['startup_seconds']:.1f} "
                    f"| {bt.get('model', 0):.1f} | {bt.get('test', 0):.1f} | {bt.get('seed', 0):.1f} "
                    f"| {bt.get('operation', 0):.1f} | {b.get('reconcile_seconds', 0):.1f} "
                    f"| {slow.get('node', '')[:40]} {slow.get('seconds', 0):.1f} |"
                )
        lines.append("")
    spark = [e for e in report.get("spark", []) if "rows" in e]
    if spark:
        lines += [
            "### Spark (dbt-spark, local mode, one core) beside DuckDB on the same lake (seconds, wall)",
            "",
            "| trade rows | DuckDB full | Spark full | ratio | DuckDB +1 month | Spark +1 month | ratio "
            "| Spark peak RSS MB (dbt; dbt + JVM) | marts equal (full, +1 month) |",
            "|--:|--:|--:|--:|--:|--:|--:|--:|:-:|",
        ]
        for e in spark:
            cells = []
            for step in ("full", "month"):
                d, k = e.get(f"duckdb_{step}", {}), e.get(f"spark_{step}", {})
                ok = "error" not in d and "error" not in k and d and k
                cells += [f"{d.get('seconds', 0):.1f}", f"{k.get('seconds', 0):.1f}",
                          f"{k['seconds'] / d['seconds']:.1f}" if ok else "-"]  # fmt: skip
            rss = max(e.get(f"spark_{step}", {}).get("peak_rss_mb", 0) for step in ("full", "month"))
            tree = max(e.get(f"spark_{step}", {}).get("peak_tree_mb", 0) for step in ("full", "month"))
            equal = ", ".join(
                "yes" if e.get(f"equal_{step}", {}).get("equal") else "**no**" for step in ("full", "month")
            )
            lines.append(
                f"| {e['rows']:,} | "
                + " | ".join(cells)
                + f" | {rss:,.0f}; {f'{tree:,.0f}' if tree else '-'} | {equal} |"
            )
        lines.append("")
    bi = report.get("bi")
    if bi and "queries" in bi:
        lines += [f"### BI latency on the serving file ({bi['rows']:,} rows in fct_trade_flows)", "",
                  "| query | p50 ms | p95 ms |", "|---|--:|--:|"]  # fmt: skip
        for name, q in bi["queries"].items():
            lines.append(f"| {name} | {q['p50_ms']:.1f} | {q['p95_ms']:.1f} |")
        lines += [f"| **all queries** | **{bi['p50_ms']:.1f}** | **{bi['p95_ms']:.1f}** |", ""]
    e2e = report.get("e2e")
    if e2e and "phases" in e2e:
        ph = e2e["phases"]
        lines += [
            "### make run on data/samples (seconds)",
            "",
            "| total | start-up | ingest | validation (GX) | dbt build | publish | other |",
            "|--:|--:|--:|--:|--:|--:|--:|",
            f"| {e2e['seconds']:.1f} | {ph['startup']:.1f} | {ph['ingest']:.1f} | {ph['validation']:.1f} | "
            f"{ph['dbt']:.1f} | {ph['publish']:.1f} | {ph['other']:.1f} |",
            "",
        ]
    if report.get("targets"):
        lines += ["### Targets", "", "| target | wanted | measured | met |", "|---|---|--:|:-:|"]
        for t in report["targets"]:
            lines.append(
                f"| {t['target']} | {t['wanted']} | {t['measured']:,} {t['unit']} | {'yes' if t['met'] else '**no**'} |"
            )
        lines.append("")
    return "\n".join(lines)


def machine() -> dict:
    info = {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        with open("/proc/meminfo") as handle:
            info["mem_gb"] = round(int(handle.readline().split()[1]) / 1024**2, 1)
        with open("/proc/cpuinfo") as handle:
            info["cpu"] = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), ""
            )
    except OSError:
        pass
    versions = {}
    for module in ("polars", "duckdb", "pandas", "great_expectations", "pyarrow", "numpy"):
        try:
            versions[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001
            versions[module] = None
    info["versions"] = versions
    return info


def parse_sizes(text: str) -> list[int]:
    return sorted({int(float(s)) for s in text.replace(" ", "").split(",") if s})


def main(argv: list[str]) -> int:
    global WORKDIR, REPEATS, FULL
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", DEFAULT_SIZES))
    parser.add_argument("--full", action="store_true", default=os.environ.get("BENCH_FULL") == "1",
                        help="add 1e7 rows (about an hour more)")  # fmt: skip
    parser.add_argument("--sections", default=os.environ.get("BENCH_SECTIONS", "ingest,dbt,bi,e2e"))
    parser.add_argument("--dbt-sizes", default=os.environ.get("BENCH_DBT_SIZES"), help="default: the sizes")
    parser.add_argument("--spark-sizes", default=os.environ.get("BENCH_SPARK_SIZES"),
                        help="section spark (not in the default sections): default the dbt sizes")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", "3")))
    parser.add_argument(
        "--workdir", type=Path, default=Path(os.environ.get("BENCH_WORKDIR", "/tmp/ree-bench"))
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--render", type=Path, help="print the tables of an earlier results file")
    args = parser.parse_args(argv)
    if args.render:
        print(table(json.loads(args.render.read_text())))
        return 0
    WORKDIR, REPEATS, FULL = args.workdir, args.repeats, args.full
    WORKDIR.mkdir(parents=True, exist_ok=True)
    sizes = parse_sizes(args.sizes)
    if args.full and FULL_SIZE not in sizes:
        sizes.append(FULL_SIZE)
    dbt_sizes = parse_sizes(args.dbt_sizes) if args.dbt_sizes else sizes
    sections = set(args.sections.split(","))
    started = dt.datetime.now(dt.UTC)
    report: dict = {
        "meta": {
            "started": started.isoformat(timespec="seconds"),
            "sizes": sizes,
            "dbt_sizes": dbt_sizes,
            "sections": sorted(sections),
            "workdir": str(WORKDIR),
            "machine": machine(),
            "generator": GENERATOR_HASH,
            "rss_limit_mb": RSS_LIMIT_MB,
        },  # fmt: skip
    }
    log(f"bench: sizes {sizes}, sections {sorted(sections)}, workdir {WORKDIR}")
    clock = time.perf_counter()
    if "e2e" in sections:
        report["e2e"] = run_e2e()
    if "ingest" in sections:
        report["ingest"] = run_ingest(sizes)
    serving = None
    if "dbt" in sections or "bi" in sections:
        report["dbt"], serving = run_dbt(dbt_sizes)
    if "bi" in sections and serving:
        report["bi"] = run_bi(serving["serving"], serving["rows"])
    if "spark" in sections:
        report["spark"] = run_spark(parse_sizes(args.spark_sizes) if args.spark_sizes else dbt_sizes)
    report["targets"] = targets(report)
    report["meta"]["seconds"] = time.perf_counter() - clock
    report["meta"]["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1, default=str))
    text = table(report)
    args.output.with_suffix(".md").write_text(text)
    print("\n" + text)
    log(f"done in {report['meta']['seconds'] / 60:.1f} min: {args.output}")
    return 0


WORKDIR = Path("/tmp/ree-bench")
REPEATS = 3
FULL = False

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
