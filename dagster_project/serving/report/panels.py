"""Reading the serving file: one short read-only connection, every chart turned into a `Panel` (a
figure, or "no data" and why), and what the page header says about the file.

Tables are queried without a catalog (`fct_trade_flows`, `audit.load_log`): the connection's
default schema is set to `marts`, so the queries work whatever the file is called. Captions name
them as analysts do, `marts.<table>`.
"""

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.serving.report.charts import CHARTS
from dagster_project.serving.report.common import WHAT_TO_LOAD, Chart, NoData, Panel, records, scalar


@dataclass(frozen=True)
class ServingInfo:
    path: Path
    published_at: datetime.datetime | None = None
    loads: list[tuple[str, int, datetime.datetime | None]] = field(default_factory=list)


def _mart_problem(con: duckdb.DuckDBPyConnection, chart: Chart) -> str | None:
    """Why a mart cannot be charted (missing, lacking columns, empty), or None when it can."""
    table = chart.mart
    found = {
        r.column_name
        for r in records(
            con,
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = 'marts' and table_name = ?",
            [table],
        )
    }
    if not found:
        return (
            f"marts.{table} is not in the serving file: the dbt model {table} was not built or not "
            f"published yet; build and publish it with `make run`, then {WHAT_TO_LOAD[table]}"
        )
    missing = [column for column in chart.columns if column not in found]
    if missing:
        return (
            f"marts.{table} has no column {', '.join(missing)}: the mart changed; republish with "
            f"`make run`, or align this chart with the dbt model {table}"
        )
    count = scalar(con, f'select count(*) from marts."{table}"')  # noqa: S608 (known table)
    if count == 0:
        return f"marts.{table} has no rows; {WHAT_TO_LOAD[table]}"
    return None


def _serving_info(con: duckdb.DuckDBPyConnection, path: Path) -> ServingInfo:
    published_at = None
    loads: list[tuple[str, int, datetime.datetime | None]] = []
    try:
        published_at = scalar(con, "select max(published_at) from audit.publish_info")
    except duckdb.Error:
        pass
    try:
        loads = [
            (r.source, r.files, r.latest)
            for r in records(
                con,
                "select source, count(*) as files, max(loaded_at) as latest from audit.load_log "
                "where status = 'landed' group by source order by source",
            )
        ]
    except duckdb.Error:
        pass
    return ServingInfo(path=path, published_at=published_at, loads=loads)


def _panel(con: duckdb.DuckDBPyConnection, chart: Chart) -> Panel:
    try:
        problem = _mart_problem(con, chart)
        if problem:
            return Panel(chart.key, chart.title, chart.base_caption(), no_data=problem)
        figure, detail = chart.build(con)
    except NoData as reason:
        return Panel(chart.key, chart.title, chart.base_caption(), no_data=str(reason))
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return Panel(
            chart.key,
            chart.title,
            chart.base_caption(),
            no_data=f"marts.{chart.mart} could not be read ({first_line}); align this chart with "
            f"the dbt model {chart.mart} or republish with `make run`",
        )
    return Panel(chart.key, chart.title, f"{chart.base_caption()} {detail}", figure=figure)


def read_panels(serving_path: Path) -> tuple[ServingInfo, list[Panel]]:
    """Every chart's panel, from one short read-only connection to the serving file."""
    if not serving_path.is_file():
        reason = f"the serving file {serving_path} does not exist; publish it with `make run`"
        return ServingInfo(path=serving_path), [
            Panel(c.key, c.title, c.base_caption(), no_data=reason) for c in CHARTS
        ]
    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        # The marts live in schema `marts` (serving/publish.py): unqualified names resolve there.
        con.execute("set schema = 'marts'")
        info = _serving_info(con, serving_path)
        panels = [_panel(con, chart) for chart in CHARTS]
    finally:
        con.close()
    return info, panels
