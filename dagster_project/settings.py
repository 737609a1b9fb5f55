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
class Settings:
    inbox_dir: Path
    data_dir: Path

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def raw_dir(self) -> Path:
        return self.lake_dir / "raw"

    @property
    def quarantine_dir(self) -> Path:
        return self.lake_dir / "quarantine"

    @property
    def load_log_dir(self) -> Path:
        return self.lake_dir / "audit" / "load_log"

    @property
    def pulled_dir(self) -> Path:
        """Where live API pulls save their payloads; read by ingest like a second inbox."""
        return self.data_dir / "pulled"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

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
        return {
            "REE_DATA_DIR": str(self.data_dir),
            "REE_LAKE_DIR": str(self.lake_dir),
            "REE_WAREHOUSE_PATH": str(self.warehouse_path),
        }


def api_key(name: str) -> str | None:
    """A key from the environment (never from a file, never logged); empty counts as unset."""
    return os.environ.get(name) or None


def get_settings() -> Settings:
    settings = Settings(
        inbox_dir=_resolve(os.environ.get("REE_INBOX_DIR", "data/samples")),
        data_dir=_resolve(os.environ.get("REE_DATA_DIR", "data")),
    )
    if "'" in str(settings.data_dir):
        # dbt's sources put the lake path inside a SQL string literal (read_parquet('...')).
        raise ValueError(
            f"REE_DATA_DIR {settings.data_dir} contains a single quote; choose a path without one"
        )
    return settings
