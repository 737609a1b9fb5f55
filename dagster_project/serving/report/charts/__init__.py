"""The report's charts, in page order: one module per chart, each with its query, its figure and
its `CHART` (title, mart, the columns it needs, units)."""

from dagster_project.serving.report.charts import (
    china_exports,
    china_us_elements,
    export_control_exposure,
    mirror_gap,
    supplier_concentration,
    suspension_expiries,
    unit_value_vs_price,
)
from dagster_project.serving.report.common import Chart

CHARTS: tuple[Chart, ...] = (
    china_exports.CHART,
    mirror_gap.CHART,
    china_us_elements.CHART,
    supplier_concentration.CHART,
    export_control_exposure.CHART,
    unit_value_vs_price.CHART,
    suspension_expiries.CHART,
)
