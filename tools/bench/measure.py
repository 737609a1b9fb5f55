#!/usr/bin/env python3
"""One measurement, run in its own process by tools/bench/run.py (so its peak RSS is its own).

    python tools/bench/measure.py <task> --path FILE [--source comtrade] [--lake DIR] ...

Prints one JSON object on its last stdout line: `seconds` is the timed section only (imports,
interpreter start and one-time warm-ups are outside it and reported apart), `rows` what was read,
`rss_before_mb` the resident set just before the timed section. Peak RSS is taken by the parent
from the kernel (wait4), never from here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Timer:
    """Wraps a function and adds up the seconds spent in it."""

    def __init__(self, function):
        self.function, self.seconds, self.calls = function, 0.0, 0

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1


# --- the product's ingest ----------------------------------------------------------------------


def product_ingest(args) -> dict:
    """`ingest_source` exactly as the asset calls it: read → normalise → row rules → GX → Parquet,
    with read+normalise and the GX suite timed apart (the rest: hashing, splitting, writing). A
    file of `REE_STREAM_MIN_MB` or more takes the streamed path, which reports its own phases."""
    import dataclasses

    started = time.perf_counter()
    from dagster_project.ingest import landing, validation
    from dagster_project.sources import SOURCES

    validation._batch_definition()  # GX import and context: once per process, not per file
    spec = SOURCES[args.source]
    if args.warmup:  # one small file first: GX's first validation and polars' first queries
        landing.ingest_source(spec, inbox_dir=Path(args.warmup), lake_dir=Path(args.lake + "-warmup"))
        shutil.rmtree(args.lake + "-warmup", ignore_errors=True)
    warm = time.perf_counter() - started
    read, normalise, suite = Timer(spec.read), Timer(spec.normalise), Timer(validation.run_suite)
    spec = dataclasses.replace(spec, read=read, normalise=normalise)
    validation.run_suite = suite
    lake = Path(args.lake)
    shutil.rmtree(lake, ignore_errors=True)
    before = rss_mb()
    started = time.perf_counter()
    report = landing.ingest_source(spec, inbox_dir=Path(args.inbox), lake_dir=lake)
    seconds = time.perf_counter() - started
    bad = [f"{load.source_file}: {load.message}" for load in report.loads if load.status != "landed"]
    # A file landed streamed (ingest/streaming.py) reports its own clock in its load's phases.
    streamed = [load.phases for load in report.loads if load.phases]
    if streamed:
        ph = {name: sum(p.get(name, 0.0) for p in streamed) for name in ("parse_normalise_s", "gx_s")}
        phases = {
            "read_and_normalise": ph.get("parse_normalise_s", 0.0),
            "gx": ph.get("gx_s", 0.0),
            "write_and_rest": seconds - ph.get("parse_normalise_s", 0.0) - ph.get("gx_s", 0.0),
        }
        path = "streamed"
    else:
        phases = {
            "read_and_normalise": read.seconds + normalise.seconds,
            "gx": suite.seconds,
            "write_and_rest": seconds - read.seconds - normalise.seconds - suite.seconds,
        }
        path = "whole file"
    return {
        "seconds": seconds,
        "rows": report.rows_read,
        "rows_landed": report.rows_landed,
        "rows_quarantined": report.rows_quarantined,
        "files": len(report.loads),
        "rejected": bad,
        "path": path,
        "phases": phases,
        "warmup_seconds": warm,
        "rss_before_mb": before,
    }


def ingest_inbox(args) -> dict:
    """Every source of an inbox into a lake (the dbt benchmark's lake), as `make run` would."""
    from dagster_project.ingest import landing, validation
    from dagster_project.sources import SOURCES

    validation._batch_definition()
    before = rss_mb()
    started = time.perf_counter()
    per_source = {}
    for name, spec in SOURCES.items():
        report = landing.ingest_source(spec, inbox_dir=Path(args.inbox), lake_dir=Path(args.lake))
        rejected = [f"{load.source_file}: {load.message}" for load in report.loads if load.status != "landed"]
        if rejected:
            raise SystemExit(f"{name}: rejected files: {rejected}")
        per_source[name] = {"rows": report.rows_read, "quarantined": report.rows_quarantined}
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": sum(v["rows"] for v in per_source.values()),
        "sources": per_source,
        "rss_before_mb": before,
    }


# --- the floors: plain polars and DuckDB on the same file ---------------------------------------


def polars_read_csv(args) -> dict:
    import polars as pl

    before = rss_mb()
    started = time.perf_counter()
    if args.encoding == "gbk":  # polars reads UTF-8 only: decode first (the cheapest honest floor)
        frame = pl.read_csv(Path(args.path).read_bytes().decode("gb18030").encode("utf-8"))
    else:
        frame = pl.read_csv(args.path)
    return {"seconds": time.perf_counter() - started, "rows": frame.height, "rss_before_mb": before}


def polars_scan_csv(args) -> dict:
    import polars as pl

    before = rss_mb()
    started = time.perf_counter()
    frame = pl.scan_csv(args.path).collect()
    return {"seconds": time.perf_counter() - started, "rows": frame.height, "rss_before_mb": before}


def duckdb_read_csv(args) -> dict:
    import duckdb

    con = duckdb.connect()
    before = rss_mb()
    started = time.perf_counter()
    con.execute("create table t as select * from read_csv(?)", [args.path])
    rows = con.execute("select count(*) from t").fetchone()[0]
    return {"seconds": time.perf_counter() - started, "rows": rows, "rss_before_mb": before}


def polars_read_json(args) -> dict:
    """Comtrade's {"data": [...]} payload: read, then one row per record."""
    import polars as pl

    before = rss_mb()
    started = time.perf_counter()
    frame = pl.read_json(args.path).select(pl.col("data").explode()).unnest("data")
    return {"seconds": time.perf_counter() - started, "rows": frame.height, "rss_before_mb": before}


def duckdb_read_json(args) -> dict:
    import duckdb

    con = duckdb.connect()
    before = rss_mb()
    started = time.perf_counter()
    if args.source == "census":  # an array of arrays: one VARCHAR[] per row, header first
        con.execute(
            "create table t as select json from read_json(?, format = 'array', records = false, "
            "maximum_object_size = 1000000000)",
            [args.path],
        )
        rows = con.execute("select count(*) - 1 from t").fetchone()[0]
    else:
        con.execute(
            "create table t as select unnest(data, recursive := true) from read_json(?, "
            "maximum_object_size = 4000000000)",
            [args.path],
        )
        rows = con.execute("select count(*) from t").fetchone()[0]
    return {"seconds": time.perf_counter() - started, "rows": rows, "rss_before_mb": before}


def python_json_polars(args) -> dict:
    """Census's array of arrays has no polars reader: json.loads, then a frame (the floor)."""
    import json as json_module

    import polars as pl

    before = rss_mb()
    started = time.perf_counter()
    payload = json_module.loads(Path(args.path).read_bytes())
    frame = pl.DataFrame(payload[1:], schema=payload[0], orient="row")
    return {"seconds": time.perf_counter() - started, "rows": frame.height, "rss_before_mb": before}


# --- the way a user would write it without this project -----------------------------------------


def _pandas_frame(args):
    import pandas as pd

    if args.format == "json" and args.source == "census":
        payload = json.loads(Path(args.path).read_bytes())
        return pd.DataFrame(payload[1:], columns=payload[0])
    if args.format == "json":
        return pd.DataFrame(json.loads(Path(args.path).read_bytes())["data"])
    return pd.read_csv(args.path, encoding="gb18030" if args.encoding == "gbk" else "utf-8")


def pandas_duckdb(args) -> dict:
    """pandas.read_csv, then a DuckDB insert (create table as select * from the DataFrame)."""
    import duckdb

    db = Path(args.lake) / "pandas.duckdb"
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir(parents=True)
    before = rss_mb()
    started = time.perf_counter()
    frame = _pandas_frame(args)
    con = duckdb.connect(str(db))
    con.register("frame", frame)
    con.execute("create table t as select * from frame")
    con.close()
    return {"seconds": time.perf_counter() - started, "rows": len(frame), "rss_before_mb": before}


def pandas_to_sql(args) -> dict:
    """pandas.read_csv, then DataFrame.to_sql (SQLite from the standard library: to_sql through
    duckdb-engine fails on DuckDB 2 with SQLAlchemy 2.1, see docs/benchmarks.md)."""
    import sqlite3

    db = Path(args.lake) / "pandas.sqlite"
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir(parents=True)
    before = rss_mb()
    started = time.perf_counter()
    frame = _pandas_frame(args)
    con = sqlite3.connect(db)
    frame.to_sql("t", con, index=False)
    con.commit()
    con.close()
    return {"seconds": time.perf_counter() - started, "rows": len(frame), "rss_before_mb": before}


# --- GX alone ----------------------------------------------------------------------------------


def gx_only(args) -> dict:
    """The GX suite alone on the landing rows of the file (read and normalise untimed): the floor
    GX sets under any ingest that validates every row. Variants: `product` (`run_suite`, the
    whole-file path: numpy-backed view, SUMMARY), `numpy_boolean` (numpy view, BOOLEAN_ONLY: the
    streamed path's pass/fail first look, redone with SUMMARY only on a batch that fails)."""
    import polars as pl

    from dagster_project.ingest import validation
    from dagster_project.sources import SOURCES
    from dagster_project.sources.contract import REJECT_REASON

    spec = SOURCES[args.source]
    typed = spec.normalise(spec.read(Path(args.path)))
    view = (
        typed.filter(pl.col(REJECT_REASON).is_null())
        .select(*spec.landing_schema)
        .with_columns(expr.alias(name) for name, expr in spec.derived_for_validation.items())
    )
    del typed
    expectations = spec.suite()

    def run(frame):
        if args.variant == "product":
            return validation.run_suite(spec.name, frame, expectations).success
        gx = validation._gx()

        suite = gx.ExpectationSuite(
            name="x", expectations=[validation._expectation(n, kw) for n, kw in expectations]
        )
        batch = validation._batch_definition().get_batch(batch_parameters={"dataframe": frame.to_pandas()})
        fmt = "BOOLEAN_ONLY" if args.variant == "numpy_boolean" else "SUMMARY"
        return batch.validate(suite, result_format=fmt).success

    run(view.head(2000))  # warm-up: GX's first validation
    before = rss_mb()
    started = time.perf_counter()
    success = run(view)
    return {
        "seconds": time.perf_counter() - started,
        "rows": view.height,
        "success": success,
        "rss_before_mb": before,
    }


# --- BI latency --------------------------------------------------------------------------------


def bi_queries(args) -> dict:
    """Each typical mart query, `--repeat` times on one read-only connection (after one warm-up
    run each): p50 and p95 per query and over all of them."""
    import duckdb

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from queries import QUERIES

    con = duckdb.connect(args.path, read_only=True)
    per_query, every = {}, []
    for name, sql in QUERIES.items():
        con.execute(sql).fetchall()
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            con.execute(sql).fetchall()
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        every += times
        per_query[name] = {"p50_ms": _pct(times, 50), "p95_ms": _pct(times, 95), "max_ms": times[-1]}
    every.sort()
    rows = con.execute("select count(*) from marts.fct_trade_flows").fetchone()[0]
    con.close()
    return {
        "seconds": sum(every) / 1000,
        "rows": rows,
        "p50_ms": _pct(every, 50),
        "p95_ms": _pct(every, 95),
        "queries": per_query,
    }


def _pct(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


# --- publish -----------------------------------------------------------------------------------


def publish(args) -> dict:
    from dagster_project.serving.publish import publish as publish_file

    before = rss_mb()
    started = time.perf_counter()
    result = publish_file(Path(args.path), Path(args.out))
    return {
        "seconds": time.perf_counter() - started,
        "rows": sum(result.tables.values()),
        "rss_before_mb": before,
    }


def e2e(args) -> dict:
    """`python -m dagster_project.run` (what `make run` runs after set-up) in this process, with
    DAGSTER_HOME unset (ephemeral instance) and REE_DATA_DIR a fresh folder. `BENCH_T0` is the
    parent's clock when it started this process, so start-up includes the interpreter.

    start-up: process start → the job starts executing (imports, definitions, dbt manifest);
    ingest: the raw_* steps minus the GX suites; validation: the GX suites; dbt: the dbt build
    step; publish: serving_marts; other: the remaining steps, Dagster's own work between steps and
    the summary."""
    t0 = float(os.environ.get("BENCH_T0", time.time()))
    import dagster as dg

    from dagster_project import run as run_module
    from dagster_project.ingest import validation

    suite = Timer(validation.run_suite)
    validation.run_suite = suite
    captured: dict = {}
    original = dg.JobDefinition.execute_in_process

    def execute(self, *a, **kw):
        captured["start"] = time.time()
        result = original(self, *a, **kw)
        captured["end"] = time.time()
        captured["result"] = result
        return result

    dg.JobDefinition.execute_in_process = execute
    status = run_module.main()
    finished = time.time()
    result = captured["result"]
    steps = {}
    for event in result.all_events:
        if event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            steps[event.step_key] = event.event_specific_data.duration_ms / 1000
    ingest_steps = sum(v for k, v in steps.items() if k.startswith("raw_"))
    dbt_s = sum(v for k, v in steps.items() if "dbt" in k)
    publish_s = steps.get("serving_marts", 0.0)
    total = finished - t0
    startup = captured["start"] - t0
    phases = {
        "startup": startup,
        "ingest": ingest_steps - suite.seconds,
        "validation": suite.seconds,
        "dbt": dbt_s,
        "publish": publish_s,
    }
    phases["other"] = total - sum(phases.values())
    return {"seconds": total, "rows": 0, "status": status, "phases": phases, "steps": steps}


TASKS = {
    "e2e": e2e,
    "product": product_ingest,
    "ingest_inbox": ingest_inbox,
    "polars_read_csv": polars_read_csv,
    "polars_scan_csv": polars_scan_csv,
    "duckdb_read_csv": duckdb_read_csv,
    "polars_read_json": polars_read_json,
    "duckdb_read_json": duckdb_read_json,
    "python_json_polars": python_json_polars,
    "pandas_duckdb": pandas_duckdb,
    "pandas_to_sql": pandas_to_sql,
    "gx_only": gx_only,
    "bi": bi_queries,
    "publish": publish,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--path", default="")
    parser.add_argument("--inbox", default="")
    parser.add_argument("--lake", default="")
    parser.add_argument("--out", default="")
    parser.add_argument("--source", default="comtrade")
    parser.add_argument("--format", default="csv")
    parser.add_argument("--encoding", default="utf-8")
    parser.add_argument("--variant", default="")
    parser.add_argument("--warmup", default="", help="an inbox with a small file, ingested untimed first")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    result = TASKS[args.task](args)
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
