"""The publish asset: the serving file BI tools open, replaced atomically after a green build."""

import dagster as dg

from dagster_project.lib import storage
from dagster_project.lib.locks import WAREHOUSE_POOL, warehouse_lock
from dagster_project.serving.publish import publish
from dagster_project.settings import get_settings

OWNER = "team:data-engineering"


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
