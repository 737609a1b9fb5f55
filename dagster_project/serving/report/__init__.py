"""The supply-risk report: one self-contained HTML page of plotly charts read from the serving file.

Everything here is a plain function. `build_report` opens `serving/ree.duckdb` read-only for the
duration of the queries only (as any BI reader does: it never blocks a publish, and it sees one
consistent version of the file), turns each mart into a `Panel` (a figure, or the reason there is
none), renders one HTML page and writes it atomically to `$REE_DATA_DIR/reports/supply_risk.html`.

Layout: `charts/` holds one module per chart (its query, its figure, its `CHART`); `panels.py`
reads the serving file; `render.py` is the page; `common.py` what they share. A chart whose mart is
missing, empty or lacks a column shows a "no data: <why, what to load>" panel instead of failing
the report.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster_project.serving.report.charts import CHARTS
from dagster_project.serving.report.panels import read_panels
from dagster_project.serving.report.render import write_page
from dagster_project.settings import Settings, get_settings

REPORT_NAME = "supply_risk.html"

__all__ = ["CHARTS", "REPORT_NAME", "ReportResult", "build_report", "report_path"]


@dataclass(frozen=True)
class ReportResult:
    path: Path
    charts_rendered: list[str]
    charts_empty: dict[str, str]

    def metadata(self) -> dict[str, Any]:
        return {"rendered": self.charts_rendered, "empty": self.charts_empty}


def report_path(settings: Settings | None = None) -> Path:
    """`$REE_DATA_DIR/reports/supply_risk.html`."""
    return (settings or get_settings()).data_dir / "reports" / REPORT_NAME


def build_report(
    serving_path: Path | None = None,
    output_path: Path | None = None,
    generated_at: datetime.datetime | None = None,
) -> ReportResult:
    """Read the serving file, render the page, write it atomically; say which charts had data."""
    settings = get_settings()
    serving_path = serving_path or settings.serving_path
    output_path = output_path or report_path(settings)
    generated_at = generated_at or datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    info, panels = read_panels(serving_path)
    write_page(output_path, info, panels, generated_at)
    return ReportResult(
        path=output_path,
        charts_rendered=[p.key for p in panels if p.figure is not None],
        charts_empty={p.key: p.no_data or "" for p in panels if p.figure is None},
    )
