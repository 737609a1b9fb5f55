"""dbt wiring: the project (built lazily, nothing parsed at import), the translator, and the
`@dbt_assets` that run `dbt build` inside the single-writer warehouse pool."""

import functools
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from dagster_project.lib import storage
from dagster_project.lib.faults import pause_point
from dagster_project.lib.locks import WAREHOUSE_POOL, warehouse_lock
from dagster_project.settings import DBT_PROJECT_DIR, Lake, get_settings
from dagster_project.warehouse import incremental

OWNER = "team:analytics-engineering"
# What a materialization runs (the one definition: warehouse/incremental.py BUILD_ARGS).
DBT_BUILD_ARGS = list(incremental.BUILD_ARGS)


def export_dbt_env() -> None:
    """dbt reads absolute paths from the environment (profiles.yml, sources.yml); and dagster-dbt's
    own preparer (`prepare_if_dev` under `dagster dev`) calls `dbt` from PATH, which a code server
    started with the base interpreter does not have."""
    os.environ.update(get_settings().dbt_env())
    dbt_bin = str(Path(dbt_executable()).parent)
    if dbt_bin != "." and dbt_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = dbt_bin + os.pathsep + os.environ.get("PATH", "")


def dbt_executable() -> str:
    """The dbt installed beside dagster-dbt. `dagster dev` may start its code server with the
    base interpreter (venv not activated, not on PATH), so look where the packages live."""
    import dagster_dbt

    venv_from_packages = Path(dagster_dbt.__file__).resolve().parents[4]
    candidates = (
        Path(sys.prefix) / "bin" / "dbt",
        Path(sys.executable).parent / "dbt",
        venv_from_packages / "bin" / "dbt",
    )
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


@functools.cache
def dbt_project() -> DbtProject:
    export_dbt_env()
    # one target folder per engine (REE_ENGINE): the manifests differ in the incremental configs
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target_path=get_settings().dbt_target_path,
    )
    project.prepare_if_dev()
    if not project.manifest_path.exists():
        # A fresh clone has no manifest; `make setup` runs `dbt parse`, this is the fallback.
        project.preparer.prepare(project)
    return project


class WarehouseTranslator(DagsterDbtTranslator):
    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id) or {}
        layer = (node.get("fqn") or ["", ""])[1] if node.get("resource_type") == "model" else "seeds"
        return spec.replace_attributes(
            group_name="warehouse",
            owners=[OWNER],
            tags={**spec.tags, "layer": layer},
        )


TRANSLATOR = WarehouseTranslator(
    settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
)


class DbtBuildConfig(dg.Config):
    """Launchpad config of `warehouse_dbt_build`."""

    full_refresh: bool = False
    """Rebuild the incremental marts whole (`dbt build --full-refresh`). Never needed for new,
    revised or deleted files, nor for changed models or seeds: those are detected. Use it after
    editing or restoring warehouse.duckdb by hand."""


def build_dbt_assets() -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=TRANSLATOR,
        pool=WAREHOUSE_POOL,
        name="warehouse_dbt_build",
    )
    def warehouse_dbt_build(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
    ) -> Iterator:
        """Seeds, staging, intermediate and marts, with data_tests as checks. The three big
        marts build incrementally: only the periods of loads that changed since the last
        successful build (warehouse/incremental.py plans them). With REE_ENGINE=spark the same
        models build on Spark, and its marts are then copied into the DuckDB file publish reads."""
        export_dbt_env()
        settings = get_settings()
        on_spark = settings.engine == "spark"
        if on_spark:
            from dagster_project.warehouse import spark
        with (
            storage.writing("dbt build", settings.data_dir, settings.warehouse_path),
            warehouse_lock(settings.lock_path),
        ):
            manifest = incremental.load_manifest(fresh_manifest(project))
            plan = incremental.begin(
                settings.warehouse_path,
                manifest,
                Lake(settings.lake_dir).load_log_root,
                selected=_selected_unique_ids(context),
                full_refresh=config.full_refresh,
                variables=incremental.project_variables(DBT_PROJECT_DIR),
                engine_tables=spark.existing_tables(settings.spark_warehouse) if on_spark else None,
            )
            args = [*DBT_BUILD_ARGS, *([incremental.FULL_REFRESH] if plan.full_refresh else [])]
            if plan.full_refresh and not config.full_refresh:
                context.log.info("Spark: a model's code changed, so this build is a --full-refresh one")
            engine_env = spark.build_env(settings) if on_spark else {}
            succeeded, target_dir = False, None
            try:
                # dbt.cli starts dbt with a copy of os.environ
                os.environ.update({**engine_env, **plan.env()})
                try:
                    invocation = dbt.cli(args, context=context)
                finally:
                    for name in (incremental.PLAN_ENV, *(engine_env.keys() - settings.dbt_env().keys())):
                        os.environ.pop(name, None)
                target_dir = invocation.target_path
                for event in invocation.stream():
                    yield event
                    pause_point("dbt")
                if invocation.is_successful() and on_spark:
                    copied = spark.copy_to_duckdb(settings.spark_warehouse, manifest, settings.warehouse_path)
                    context.log.info(
                        f"Spark marts copied into {settings.warehouse_path}: {len(copied)} tables"
                    )
                succeeded = invocation.is_successful()
            finally:
                if on_spark and not succeeded and target_dir is not None:
                    for folder in spark.set_aside_orphaned_tables(
                        settings.spark_warehouse, Path(target_dir) / "run_results.json"
                    ):
                        context.log.error(
                            f"Spark: no table in its metastore had the folder of {folder.parent.name}"
                            f"/{folder.name} (an interrupted build leaves one), so that table was not "
                            f"built; the folder is kept at {folder} and the next run builds the table"
                        )
                incremental.finish(
                    settings.warehouse_path,
                    plan,
                    target_dir or project.project_dir / "target",
                    succeeded=succeeded,
                    variables=incremental.project_variables(DBT_PROJECT_DIR),
                )

    return warehouse_dbt_build


def _selected_unique_ids(context: dg.AssetExecutionContext) -> set[str] | None:
    """The dbt nodes of the selected assets when only some are materialized, else None (all)."""
    if not context.is_subset:
        return None
    specs = context.assets_def.specs_by_key
    return {
        str(specs[key].metadata.get("dagster_dbt/unique_id"))
        for key in context.selected_asset_keys
        if key in specs
    }


def fresh_manifest(project: DbtProject) -> Path:
    """The project's manifest, parsed again first when a file of the dbt project changed after
    it was written: the plan's fingerprints must be those of the code dbt is about to run."""
    if incremental.stale_manifest(project.manifest_path, project.project_dir):
        project.preparer.prepare(project)
    return project.manifest_path


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=dbt_project(),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )
