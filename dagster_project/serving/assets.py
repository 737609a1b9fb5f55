"""The serving assets: `serving_marts`, the serving file BI tools open, replaced atomically after a
green build; and `supply_risk_report`, the offline HTML page of charts rendered from it."""

import dagster as dg

from dagster_project.lib import storage
from dagster_project.lib.locks import WAREHOUSE_POOL, warehouse_lock
from dagster_project.serving.publish import publish
from dagster_project.serving.report import build_report
from dagster_project.settings import get_settings

OWNER = "team:data-engineering"
REPORT_OWNER = "team:analytics"


def build_publish_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        name="serving_marts",
        group_name="serving",
        kinds={"duckdb"},
        owners=[OWNER],
        deps=upstream,
        pool=WAREHOUSE_POOL,
    )
    def serving_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """`$REE_DATA_DIR/serving/ree.duckdb` (schemas marts and audit, DuckDB storage v1.0.0) and
        `serving/parquet/` with `manifest.json`: one new build of the marts and audit tables, verified,
        then made current with one atomic symlink switch. Runs only when every upstream blocking check
        passed."""
        settings = get_settings()
        with (
            storage.writing("publish", settings.data_dir, settings.serving_dir),
            warehouse_lock(settings.lock_path),
        ):
            result = publish(settings.warehouse_path, settings.serving_path)
        context.log.info(f"published {len(result.tables)} tables to {result.path}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "published_at": dg.MetadataValue.text(result.published_at.isoformat()),
                "build_id": dg.MetadataValue.text(result.build_id),
                "parquet_dir": dg.MetadataValue.path(str(result.parquet_dir)),
                "manifest": dg.MetadataValue.path(str(result.manifest_path)),
                "row_counts": dg.MetadataValue.json(result.tables),
                **{
                    f"rows_{name.replace('.', '_')}": dg.MetadataValue.int(rows)
                    for name, rows in result.tables.items()
                },
            }
        )

    return serving_marts


@dg.asset(
    name="supply_risk_report",
    group_name="serving",
    kinds={"plotly", "html"},
    owners=[REPORT_OWNER],
    deps=[dg.AssetKey("serving_marts")],
)
def supply_risk_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """`$REE_DATA_DIR/reports/supply_risk.html`: one self-contained page (plotly.js inlined, opens
    offline) with China's exports by stage (rare earths vs magnets), the China→US mirror gap, China's
    exports to the US against US imports from China by element (Dy, Tb, NdPr) with the reconciled
    estimate, US supplier concentration, controlled-element flows around each control's effective
    date, customs unit values against benchmark prices, and export-control suspensions that
    recently expired or are about to. Read from `serving/ree.duckdb` (read-only); a chart whose
    mart is missing or empty shows "no data" and why."""
    result = build_report()
    context.log.info(
        f"wrote {result.path}: {len(result.charts_rendered)} charts with data, "
        f"{len(result.charts_empty)} without"
    )
    for key, reason in result.charts_empty.items():
        context.log.warning(f"chart {key}: no data: {reason}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "charts": dg.MetadataValue.json(result.metadata()),
            "charts_rendered": dg.MetadataValue.int(len(result.charts_rendered)),
            "charts_empty": dg.MetadataValue.int(len(result.charts_empty)),
        }
    )
