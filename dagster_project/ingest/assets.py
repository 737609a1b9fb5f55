"""Dagster ingest assets: one per source, built from its `SourceSpec`, thin over `landing`.

Each asset lands the new files of its inbox folder and reports, in the same step, the GX suite
as an asset check of severity ERROR, and the quarantine as a warning check.

One source's refused file blocks nothing else (README "Quality: what stops publish"). A refused
file (unreadable, or failing its GX suite) lands nothing: the source's raw data is exactly what
its earlier files gave, so what depends on it rebuilds to the previous figures, and every other
source's update still builds and publishes. The check is therefore not blocking: it fails, red in
the UI, with the file and the reason, and the run summary says loudly which file was refused and
that its source's figures are the previous ones. (A blocking check would stop the dbt build and
publish for every source, since the warehouse build is one step: a good GACC update would be lost
because of a bad USGS file, without protecting anything, because nothing of the bad file lands.)
"""

from collections.abc import Iterator

import dagster as dg

from dagster_project.ingest.landing import SourceLoadReport, ingest_source
from dagster_project.lib import storage
from dagster_project.settings import get_settings
from dagster_project.sources.contract import SourceSpec

OWNER = "team:data-engineering"
GX_CHECK = "gx_suite"
QUARANTINE_CHECK = "no_rows_quarantined"


class IngestConfig(dg.Config):
    force_reload: bool = False
    """Reload every file of this source even when the same bytes were loaded before (for
    example after a parser fix). The reload replaces that file's earlier rows."""


def asset_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(f"raw_{source}")


def _materialization_metadata(report: SourceLoadReport, inbox: str) -> dict[str, dg.MetadataValue]:
    files = [
        {
            "file": load.source_file,
            "status": load.status,
            "rows_read": load.rows_read,
            "rows_landed": load.rows_landed,
            "rows_quarantined": load.rows_quarantined,
            "rows_out_of_scope": load.rows_out_of_scope,
            "out_of_scope_reasons": load.out_of_scope_reasons,
            "message": load.message,
        }
        for load in report.loads
    ]
    return {
        "inbox": dg.MetadataValue.path(inbox),
        "files_loaded": dg.MetadataValue.int(len(report.loads) - len(report.rejected)),
        "files_rejected": dg.MetadataValue.int(len(report.rejected)),
        "files_skipped_already_loaded": dg.MetadataValue.int(len(report.skipped)),
        "files_ignored": dg.MetadataValue.json(report.ignored),
        "rows_read": dg.MetadataValue.int(report.rows_read),
        "rows_landed": dg.MetadataValue.int(report.rows_landed),
        "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined),
        "rows_out_of_scope": dg.MetadataValue.int(report.rows_out_of_scope),
        "out_of_scope_reasons": dg.MetadataValue.json(report.out_of_scope_reasons()),
        "files": dg.MetadataValue.json(files),
    }


def _check_results(spec: SourceSpec, report: SourceLoadReport) -> list[dg.AssetCheckResult]:
    failures = [
        {"file": load.source_file, "message": load.message, "failed_expectations": load.gx_failed}
        for load in report.rejected
    ]
    previous = (
        f"nothing of {'it' if len(failures) == 1 else 'them'} landed: the {spec.name} figures stay "
        f"those of its files landed before, and the other sources still build and publish"
    )
    gx = dg.AssetCheckResult(
        check_name=GX_CHECK,
        asset_key=asset_key(spec.name),
        passed=not failures,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            "Every file read and passed its GX suite"
            if not failures
            else f"{len(failures)} file(s) refused: "
            + "; ".join(f["message"] for f in failures)
            + f"; {previous}"
        ),
        metadata={
            "files_validated": dg.MetadataValue.int(len(report.loads)),
            "files_rejected": dg.MetadataValue.int(len(failures)),
            "failures": dg.MetadataValue.json(failures),
        },
    )
    quarantined = [
        {"file": load.source_file, "rows_quarantined": load.rows_quarantined}
        for load in report.loads
        if load.rows_quarantined and load.status != "rejected"
    ]
    quarantine = dg.AssetCheckResult(
        check_name=QUARANTINE_CHECK,
        asset_key=asset_key(spec.name),
        passed=not quarantined,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            "Rows that broke a row rule are in lake/quarantine with their reason (rows out of "
            "scope are not quarantined: they are counted apart, per reason, in rows_out_of_scope)"
        ),
        metadata={
            "rows_quarantined": dg.MetadataValue.int(sum(q["rows_quarantined"] for q in quarantined)),
            "rows_out_of_scope": dg.MetadataValue.int(report.rows_out_of_scope),
            "files": dg.MetadataValue.json(quarantined),
        },
    )
    return [gx, quarantine]


def build_ingest_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    key = asset_key(spec.name)

    @dg.asset(
        key=key,
        group_name=spec.name,
        kinds={"polars", "parquet", "great_expectations"},
        owners=[OWNER],
        description=(
            f"{spec.name}: {spec.description}. Lands new files from `$REE_INBOX_DIR/{spec.name}/` "
            f"as Parquet under `$REE_DATA_DIR/lake/raw/{spec.name}/`, partitioned by period; bad "
            "rows go to quarantine with their reason, and every file gets a load_log record."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                GX_CHECK,
                asset=key,
                blocking=False,
                description=(
                    "GX 1.x suite on every file before it lands; a refused file (unreadable, or "
                    "failing the suite) fails it. Not blocking: nothing of a refused file lands, so "
                    "the source keeps its previous figures and the other sources still publish"
                ),
            ),
            dg.AssetCheckSpec(
                QUARANTINE_CHECK, asset=key, description="No row of the new files was quarantined"
            ),
        ],
    )
    def _ingest(context: dg.AssetExecutionContext, config: IngestConfig) -> Iterator:
        settings = get_settings()
        with storage.writing(f"ingest {spec.name}", settings.data_dir, settings.lake_dir):
            report = ingest_source(
                spec,
                inbox_dir=settings.inbox_dir,
                lake_dir=settings.lake_dir,
                force=config.force_reload,
                progress=context.log.info,
            )
        for load in report.rejected:
            context.log.error(load.message)
        yield dg.MaterializeResult(
            metadata=_materialization_metadata(report, str(settings.inbox_dir / spec.name))
        )
        yield from _check_results(spec, report)

    return _ingest
