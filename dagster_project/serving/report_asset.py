"""The supply-risk report asset: an offline HTML page of charts, rendered from the serving file."""

import dagster as dg

from dagster_project.serving.report import build_report

OWNER = "team:analytics"


@dg.asset(
    name="supply_risk_report",
    group_name="serving",
    kinds={"plotly", "html"},
    owners=[OWNER],
    deps=[dg.AssetKey("serving_marts")],
)
def supply_risk_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """`$REE_DATA_DIR/reports/supply_risk.html`: one self-contained page (plotly.js inlined, opens
    offline) with China's exports by stage (rare earths vs magnets), the China→US mirror gap, US
    supplier concentration, controlled-element flows around each control's effective date, customs
    unit values against benchmark prices, and export-control suspensions that recently expired or
    are about to. Read from `serving/ree.duckdb` (read-only); a chart whose mart is missing or
    empty shows "no data" and why."""
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
