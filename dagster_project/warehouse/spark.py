"""The Spark engine (`REE_ENGINE=spark`, README "Past one machine"): what the same dbt project
needs around it to build on Spark over the same lake, and to publish the same serving file.

- `lake_tables`: the lake's datasets with their columns, read from each `_schema.parquet`, for
  the on-run-start macro that declares them as external tables (dbt/macros/lake_tables.sql).
- `existing_tables`: the tables Spark's warehouse holds (for the incremental plan).
- `set_aside_orphaned_tables`: after a failed build, the table folders Spark refused to create a
  table over because its metastore has no table there (an interrupted build leaves them: Spark
  writes a new table's files before it registers the table), moved aside so the next build works.
- `copy_to_duckdb`: after a green build, Spark's marts and audit tables (Parquet folders) into
  the DuckDB file publish reads, columns in contract order and types, with dbt's descriptions as
  comments, so the serving file and BI do not depend on the engine.

Pure functions over paths and the manifest; no Spark session here (dbt-spark starts its own).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import polars as pl

from dagster_project.lib.sql import data_type, identifier, literal
from dagster_project.settings import Lake, Settings

PUBLISHED_SCHEMAS = ("marts", "audit")

# polars types of the lake (sources' landing schemas, lineage, load log) to Spark SQL
_SPARK_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "string",
    pl.Int8: "tinyint",
    pl.Int16: "smallint",
    pl.Int32: "int",
    pl.Int64: "bigint",
    pl.Float32: "float",
    pl.Float64: "double",
    pl.Boolean: "boolean",
    pl.Date: "date",
}


def spark_type(dtype: pl.DataType, *, where: str) -> str:
    if isinstance(dtype, pl.Datetime):
        # the lake writes timestamp[us] without a zone: Spark reads that as TIMESTAMP_NTZ
        return "timestamp_ntz" if dtype.time_zone is None else "timestamp"
    for kind, name in _SPARK_TYPES.items():
        if isinstance(dtype, kind):
            return name
    raise ValueError(f"{where}: no Spark type for the lake column type {dtype}")


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def lake_tables(lake: Lake, sources: Iterable[str]) -> list[dict[str, str]]:
    """One entry per dataset (`lake_<source>.records` and `.load_log`): its folder and its
    columns as Spark DDL. A source that never landed has no schema file yet: it is left out,
    and dbt then fails naming the missing table (ingest writes the schema files first)."""
    tables = []
    for source in sources:
        for name, folder, schema_file in (
            ("records", lake.raw_dir(source), lake.raw_schema_file(source)),
            ("load_log", lake.load_log_dir(source), lake.load_log_schema_file(source)),
        ):
            if not schema_file.exists():
                continue
            if "'" in str(folder):
                raise ValueError(
                    f"{folder}: the lake path contains a single quote; choose a path without one"
                )
            schema = pl.read_parquet_schema(schema_file)
            columns = ", ".join(
                f"{_quoted(column)} {spark_type(dtype, where=f'{schema_file} column {column}')}"
                for column, dtype in schema.items()
            )
            tables.append(
                {"schema": f"lake_{source}", "name": name, "location": str(folder), "columns": columns}
            )
    return tables


def lake_tables_env(lake: Lake, sources: Iterable[str]) -> dict[str, str]:
    return {"REE_SPARK_LAKE_TABLES": json.dumps(lake_tables(lake, sources))}


def build_env(settings: Settings) -> dict[str, str]:
    """What a dbt build on Spark needs in its environment: the paths and target, and the lake's
    tables (read when the build starts: a source lands its schema file with its first load)."""
    from dagster_project.sources import SOURCES

    return {**settings.dbt_env(), **lake_tables_env(Lake(settings.lake_dir), SOURCES)}


def table_folder(spark_warehouse: Path, schema: str, table: str) -> Path:
    """Where Spark keeps a managed table of the Hive catalog (`<schema>.db/<table>`)."""
    return spark_warehouse / f"{schema}.db" / table


def existing_tables(spark_warehouse: Path) -> set[tuple[str, str]]:
    """(schema, table) of every managed table folder in Spark's warehouse."""
    if not spark_warehouse.exists():
        return set()
    return {
        (schema_dir.name.removesuffix(".db"), table_dir.name)
        for schema_dir in spark_warehouse.glob("*.db")
        for table_dir in schema_dir.iterdir()
        if table_dir.is_dir()
    }


# Spark's refusal to create a managed table over a folder it does not know (SessionCatalog
# .validateTableLocation; no setting turns it off): "[LOCATION_ALREADY_EXISTS] Cannot name the
# managed table as `spark_catalog`.`marts`.`x`, as its associated location 'file:/…/marts.db/x'
# already exists."
_LOCATION_TAKEN = re.compile(r"LOCATION_ALREADY_EXISTS\].*?associated location '([^']+)'", re.S)


def set_aside_orphaned_tables(
    spark_warehouse: Path, run_results: Path, now: datetime | None = None
) -> list[Path]:
    """Move out of Spark's warehouse each table folder a failed build could not create its table
    over (`LOCATION_ALREADY_EXISTS` in dbt's run_results.json), to
    `<spark dir>/orphaned/<UTC time>/<schema>.db/<table>`: the metastore has no table there, so
    the folder is the remains of an interrupted build (Spark writes a new table's files first and
    registers the table last) or of a metastore deleted on its own. Kept, not deleted, and only
    folders inside the warehouse are touched. The next build creates those tables. Returns the
    new places."""
    if not run_results.is_file():
        return []
    root = spark_warehouse.resolve()
    messages = [str(result.get("message") or "") for result in json.loads(run_results.read_text())["results"]]
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    moved = []
    for match in _LOCATION_TAKEN.finditer("\n".join(messages)):
        folder = Path(unquote(urlparse(match.group(1)).path)).resolve()
        if not folder.is_dir() or folder.parent.parent != root:
            continue
        destination = root.parent / "orphaned" / stamp / folder.parent.name / folder.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(destination)
        moved.append(destination)
    return moved


def table_files(folder: Path) -> list[Path]:
    """The Parquet files of a table folder as Spark reads them: not under a folder or file whose
    name starts with `_` or `.` (an interrupted write leaves `_temporary/` and `.spark-staging-*`
    folders with part files in a table that is registered; reading them would add their rows)."""
    return sorted(
        path
        for path in folder.rglob("*.parquet")
        if not any(part.startswith(("_", ".")) for part in path.relative_to(folder).parts)
    )


def published_models(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The models publish serves (tables in the marts and audit schemas), by schema and name."""
    nodes = [
        node
        for node in manifest["nodes"].values()
        if node.get("resource_type") == "model"
        and node.get("schema") in PUBLISHED_SCHEMAS
        and node.get("config", {}).get("materialized") in ("table", "incremental")
    ]
    return sorted(nodes, key=lambda node: (node["schema"], node.get("alias") or node["name"]))


def copy_to_duckdb(spark_warehouse: Path, manifest: Mapping[str, Any], duckdb_path: Path) -> dict[str, int]:
    """Replace the marts and audit schemas of `duckdb_path` by Spark's tables of the same names,
    in one transaction (the file keeps its other schemas: the incremental ledger). Columns come
    in the order and with the types of each model's contract; partition folders (Spark puts the
    partition column last, as a folder name) are read back as columns. Returns rows per table."""
    import duckdb

    models = published_models(manifest)
    if not models:
        raise ValueError("the dbt manifest has no marts or audit tables to copy")
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    con = duckdb.connect(str(duckdb_path))
    try:
        con.execute("begin")
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"drop schema if exists {identifier(schema)} cascade")
            con.execute(f"create schema {identifier(schema)}")
        for node in models:
            schema, table = node["schema"], node.get("alias") or node["name"]
            columns = node.get("columns") or {}
            untyped = [name for name, column in columns.items() if not column.get("data_type")]
            if not columns or untyped:
                raise ValueError(
                    f"model {node['name']}: publish from Spark needs every column typed in its contract "
                    f"({'no columns' if not columns else 'untyped: ' + ', '.join(untyped)})"
                )
            folder = table_folder(spark_warehouse, schema, table)
            if not folder.is_dir():
                raise FileNotFoundError(
                    f"{folder}: Spark has no table {schema}.{table}; did its dbt build run?"
                )
            name = f"{identifier(schema)}.{identifier(table)}"
            definitions = ", ".join(
                f"{identifier(column)} {data_type(spec['data_type'])}" for column, spec in columns.items()
            )
            con.execute(f"create table {name} ({definitions})")
            files = table_files(folder)
            if files:
                selected = ", ".join(
                    f"cast({identifier(column)} as {data_type(spec['data_type'])})"
                    for column, spec in columns.items()
                )
                paths = ", ".join(literal(str(path)) for path in files)
                con.execute(
                    f"insert into {name} select {selected} "  # noqa: S608 (names checked and quoted)
                    f"from read_parquet([{paths}], hive_partitioning = true, union_by_name = true)"
                )
            if node.get("description"):
                con.execute(f"comment on table {name} is {literal(node['description'].strip())}")
            for column, spec in columns.items():
                if spec.get("description"):
                    con.execute(
                        f"comment on column {name}.{identifier(column)} is "
                        f"{literal(spec['description'].strip())}"
                    )
            rows[f"{schema}.{table}"] = con.execute(f"select count(*) from {name}").fetchone()[0]  # noqa: S608
        con.execute("commit")
    finally:
        con.close()
    return rows
