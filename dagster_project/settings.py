"""Where the project reads and writes, read once per call from the environment.

Every path in the project comes from here, so a user moves the data with two variables:
`REE_INBOX_DIR` (source files, default `data/samples`) and `REE_DATA_DIR` (lake, warehouse,
serving file, default `data`). Relative values are resolved against the repository root, so
the same settings work from any working directory, and dbt always gets absolute paths.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"


def _resolve(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


@dataclass(frozen=True)
class Lake:
    """The lake's layout under its root (`$REE_DATA_DIR/lake`), every path ingest reads or writes
    (dbt's sources, `dbt/models/staging/*/_*__sources.yml`, glob the same layout):

      raw/<source>/period=<p>/<load_id>.parquet      typed rows with lineage columns
      raw/<source>/_schema.parquet                   zero rows: keeps the dataset readable when empty
      quarantine/<source>/<load_id>.parquet          rejected rows, raw strings + `_reject_reason`
      out_of_scope/<source>/<load_id>.parquet        rows outside the product's scope, raw strings +
                                                     `_out_of_scope` (the reason), kept for debugging
      audit/load_log/<source>/<load_id>.parquet      one record per file load (the commit marker)
      audit/load_log/<source>/_schema.parquet        zero rows, as for raw
      .staging/<load_id>/                            a streamed load's work folder, removed after it
    """

    root: Path

    def raw_dir(self, source: str) -> Path:
        return self.root / "raw" / source

    def raw_file(self, source: str, period: str, load_id: str) -> Path:
        # A two-month period such as China's "2025-01/02" must stay one folder level.
        return self.raw_dir(source) / f"period={period.replace('/', '_')}" / f"{load_id}.parquet"

    def raw_files(self, source: str, load_id: str) -> list[Path]:
        """What one load landed, in every period folder."""
        return sorted(self.raw_dir(source).glob(f"period=*/{load_id}.parquet"))

    def raw_schema_file(self, source: str) -> Path:
        return self.raw_dir(source) / "_schema.parquet"

    def quarantine_file(self, source: str, load_id: str) -> Path:
        return self.root / "quarantine" / source / f"{load_id}.parquet"

    def out_of_scope_file(self, source: str, load_id: str) -> Path:
        return self.root / "out_of_scope" / source / f"{load_id}.parquet"

    @property
    def load_log_root(self) -> Path:
        """Every source's load log (`<source>/<load_id>.parquet` below it)."""
        return self.root / "audit" / "load_log"

    def load_log_dir(self, source: str) -> Path:
        return self.load_log_root / source

    def load_log_file(self, source: str, load_id: str) -> Path:
        return self.load_log_dir(source) / f"{load_id}.parquet"

    def load_log_schema_file(self, source: str) -> Path:
        return self.load_log_dir(source) / "_schema.parquet"

    @property
    def staging_root(self) -> Path:
        """Work folders of streamed loads (hidden: no reader globs them)."""
        return self.root / ".staging"

    def staging_dir(self, load_id: str) -> Path:
        return self.staging_root / load_id


ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class Settings:
    inbox_dir: Path
    data_dir: Path
    engine: str = "duckdb"
    """The dbt target the warehouse builds on (`REE_ENGINE`): duckdb, or spark (README "Past one
    machine"). Either way publish writes the same DuckDB serving file."""

    @property
    def lake_dir(self) -> Path:
        """The root of the lake; its layout is `Lake(lake_dir)`."""
        return self.data_dir / "lake"

    @property
    def pulled_dir(self) -> Path:
        """Where live API pulls save their payloads; read by ingest like a second inbox."""
        return self.data_dir / "pulled"

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file publish reads: dbt's own on DuckDB; on Spark, the copy of Spark's marts
        and audit tables made after each build (dagster_project/warehouse/spark.py), which also
        keeps the incremental ledger."""
        if self.engine == "spark":
            return self.spark_dir / "warehouse.duckdb"
        return self.data_dir / "warehouse.duckdb"

    @property
    def spark_dir(self) -> Path:
        """Spark's warehouse (Parquet tables) and its metastore, beside the DuckDB warehouse."""
        return self.data_dir / "spark"

    @property
    def spark_warehouse(self) -> Path:
        """Spark's managed tables (`<schema>.db/<table>/`, Parquet), dbt's marts on Spark."""
        return self.spark_dir / "spark-warehouse"

    @property
    def dbt_target(self) -> str:
        """The output of dbt/profiles.yml this engine builds with (`REE_DBT_TARGET`)."""
        return "spark" if self.engine == "spark" else "local"

    @property
    def dbt_target_path(self) -> str:
        """dbt's target folder in the project: one per engine, since the manifests differ (the
        incremental configs are the engine's), and the incremental plan is made on it."""
        return "target-spark" if self.engine == "spark" else "target"

    @property
    def serving_dir(self) -> Path:
        return self.data_dir / "serving"

    @property
    def serving_path(self) -> Path:
        return self.serving_dir / "ree.duckdb"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / ".warehouse.lock"

    def dbt_env(self) -> dict[str, str]:
        """The variables `dbt/profiles.yml` and the dbt sources read: absolute paths only."""
        env = {
            "REE_DATA_DIR": str(self.data_dir),
            "REE_LAKE_DIR": str(self.lake_dir),
            "REE_WAREHOUSE_PATH": str(self.warehouse_path),
            "REE_DBT_TARGET": self.dbt_target,
        }
        if self.engine == "spark":
            env |= {
                "REE_SPARK_WAREHOUSE": str(self.spark_warehouse),
                "REE_SPARK_METASTORE": str(self.spark_dir / "metastore_db"),
                "REE_SPARK_LOG4J": str(REPO_ROOT / "deploy" / "spark-log4j2.properties"),
                "REE_SPARK_LOG": str(self.spark_dir / "spark.log"),
                "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
            }
        return env


def api_key(name: str) -> str | None:
    """A key from the environment (never from a file, never logged); empty counts as unset."""
    return os.environ.get(name) or None


def get_settings() -> Settings:
    engine = (os.environ.get("REE_ENGINE") or "duckdb").strip().lower()
    if engine not in ENGINES:
        raise ValueError(f"REE_ENGINE={engine!r} is not an engine of this project; choose one of {ENGINES}")
    settings = Settings(
        inbox_dir=_resolve(os.environ.get("REE_INBOX_DIR", "data/samples")),
        data_dir=_resolve(os.environ.get("REE_DATA_DIR", "data")),
        engine=engine,
    )
    if "'" in str(settings.data_dir):
        # dbt's sources put the lake path inside a SQL string literal (read_parquet('...')).
        raise ValueError(
            f"REE_DATA_DIR {settings.data_dir} contains a single quote; choose a path without one"
        )
    return settings
