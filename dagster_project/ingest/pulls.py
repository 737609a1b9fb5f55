"""Live API pulls as monthly-partitioned assets, the schedules that run them (off by default),
and the inbox sensor that ingests whatever lands.

A pull saves the API's payload, untouched, as a file under `$REE_DATA_DIR/pulled/<source>/` with
the request beside it (`<file>.request.json`, no key); the ingest asset then loads it like any
dropped file, so pulled and downloaded data share one path, one suite and one load log. Pulls sit
in a pool per API (limit 1), so a backfill over many months calls the API one month at a time,
within the free tiers.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from dagster_project.ingest.assets import asset_key
from dagster_project.ingest.landing import discover
from dagster_project.lib.storage import write_atomic
from dagster_project.pulls import census, comtrade
from dagster_project.settings import api_key, get_settings
from dagster_project.sources import SOURCES

MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2017-01-01", end_offset=0)
OWNER = "team:data-engineering"


class ComtradePullConfig(dg.Config):
    reporter_codes: list[int] = [842, 156, 392, 410, 276]
    """M49 reporters: USA, China, Japan, Korea, Germany by default."""
    cmd_codes: list[str] = list(comtrade.DEFAULT_CMD_CODES)
    flow_codes: list[str] = ["M", "X"]


def save_pull(source: str, period: str, payload: bytes, request: dict) -> Path:
    digest = hashlib.sha256(payload).hexdigest()[:12]
    path = get_settings().pulled_dir / source / period / f"{source}_{period}_{digest}.json"
    write_atomic(path.with_name(path.name + ".request.json"), json.dumps(request, indent=1).encode())
    write_atomic(path, payload)
    return path


@dg.asset(
    key="comtrade_api_pull",
    partitions_def=MONTHLY,
    group_name="comtrade",
    kinds={"api", "json"},
    owners=[OWNER],
    pool="comtrade_api",
)
def comtrade_api_pull(context: dg.AssetExecutionContext, config: ComtradePullConfig) -> dg.MaterializeResult:
    """One month of Comtrade (monthly data, totals only) from the API: the keyed endpoint with
    `COMTRADE_API_KEY`, else the public preview (500 records a call). Saved under
    `$REE_DATA_DIR/pulled/comtrade/`, where `raw_comtrade` picks it up."""
    period = context.partition_key[:7].replace("-", "")
    request = comtrade.PullRequest(
        period=period,
        reporter_codes=tuple(config.reporter_codes),
        cmd_codes=tuple(config.cmd_codes),
        flow_codes=tuple(config.flow_codes),
    )
    payload, record = comtrade.pull(request, api_key("COMTRADE_API_KEY"))
    path = save_pull("comtrade", period, payload, record)
    if record["preview_capped"]:
        context.log.warning("the preview endpoint caps a call at 500 records: set COMTRADE_API_KEY")
    return dg.MaterializeResult(
        metadata={
            "file": dg.MetadataValue.path(str(path)),
            "records": dg.MetadataValue.int(record["records"]),
            "endpoint": dg.MetadataValue.text(record["endpoint"]),
            "request": dg.MetadataValue.json(record["params"]),
        }
    )


class CensusPullConfig(dg.Config):
    flows: list[str] = ["import", "export"]
    commodities: list[str] = list(census.MONTH_WILDCARDS)
    """One wildcard per call (`2846*`): a comma list makes the API answer 204 with no body."""


@dg.asset(
    key="census_api_pull",
    partitions_def=MONTHLY,
    group_name="census",
    kinds={"api", "json"},
    owners=[OWNER],
    pool="census_api",
)
def census_api_pull(context: dg.AssetExecutionContext, config: CensusPullConfig) -> dg.MaterializeResult:
    """One month of US imports and exports (HS10, `SUMMARY_LVL=DET`) from the Census
    international trade API with `CENSUS_API_KEY`; one file per flow holding the whole month
    (a file is the unit of revision), saved under `$REE_DATA_DIR/pulled/census/`."""
    key = api_key("CENSUS_API_KEY")
    if not key:
        raise dg.Failure(
            "CENSUS_API_KEY is not set: get a free key at https://api.census.gov/data/key_signup.html"
        )
    month = context.partition_key[:7]
    files = []
    for flow in config.flows:
        payload, record = census.pull(census.MonthRequest(flow, month, tuple(config.commodities)), key)
        files.append(str(save_pull("census", month.replace("-", ""), payload, record)))
    return dg.MaterializeResult(metadata={"files": dg.MetadataValue.json(files), "month": month})


PULL_ASSETS = [comtrade_api_pull, census_api_pull]

SCHEDULES = [
    dg.build_schedule_from_partitioned_job(
        dg.define_asset_job(
            f"{asset.key.path[-1].removesuffix('_api_pull')}_monthly_pull", selection=[asset]
        ),
        hour_of_day=6,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    for asset in PULL_ASSETS
]


def _fingerprint(folders: list[Path], source: str) -> str:
    """Changes when a file is added, changed or removed; empty when the source has no files."""
    files = [path for folder in folders for path in discover(folder, source)]
    if not files:
        return ""
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def build_inbox_sensor(job: dg.JobDefinition | object) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
    def inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        """Starts ingest → build → publish when a file is added to, changed in or removed from
        an inbox or pulled folder; only the sources that changed are ingested."""
        settings = get_settings()
        previous = json.loads(context.cursor) if context.cursor else {}
        current = {
            source: _fingerprint([settings.inbox_dir, settings.pulled_dir], source) for source in SOURCES
        }
        changed = sorted(s for s in SOURCES if previous.get(s, "") != current[s])
        if not changed:
            return dg.SensorResult(skip_reason="no new or changed files", cursor=json.dumps(current))
        run_key = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
        selection = dg.AssetSelection.assets(*(asset_key(s) for s in changed)).downstream()
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=run_key, asset_selection=list(_keys(context, selection)))],
            cursor=json.dumps(current),
        )

    return inbox_sensor


def _keys(context: dg.SensorEvaluationContext, selection: dg.AssetSelection) -> set[dg.AssetKey]:
    return selection.resolve(context.repository_def.asset_graph)
