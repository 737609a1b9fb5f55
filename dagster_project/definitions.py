"""The code location: ingest assets per source → dbt build (models and tests) → publish → report.

Nothing heavy happens at import: GX is imported inside a load, dbt is parsed by `make setup`
(or once, lazily, when the manifest is missing), and no network call is made.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.ingest.assets import build_ingest_asset
from dagster_project.ingest.pulls import PULL_ASSETS, SCHEDULES, build_inbox_sensor
from dagster_project.lib import dagster_fixes
from dagster_project.lib.runs import build_dead_run_reaper
from dagster_project.serving.assets import build_publish_asset, supply_risk_report
from dagster_project.sources import SOURCES
from dagster_project.warehouse.dbt import build_dbt_assets, dbt_resource

dagster_fixes.apply()  # a run waiting for the warehouse pool sleeps instead of spinning a core

ingest_assets = [build_ingest_asset(spec) for spec in SOURCES.values()]
warehouse_assets = build_dbt_assets()
publish_asset = build_publish_asset(
    [key for key in warehouse_assets.keys if key.path[-1].startswith(("fct_", "dim_", "mart_"))]
    + [key for key in warehouse_assets.keys if key.path[-1] == "load_log"]
)

everything = dg.define_asset_job(
    "materialize_everything",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(*PULL_ASSETS),
    description="Ingest every source, build and test the warehouse, publish the serving file "
    "(no network: the live pulls have their own partitioned jobs).",
)

defs = dg.Definitions(
    assets=[*ingest_assets, warehouse_assets, publish_asset, supply_risk_report, *PULL_ASSETS],
    jobs=[everything],
    schedules=SCHEDULES,
    sensors=[build_inbox_sensor(everything), build_dead_run_reaper()],
    resources={"dbt": dbt_resource()},
)
