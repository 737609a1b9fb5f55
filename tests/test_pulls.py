"""Live pulls replayed from recorded payloads (no network), the pulled folder, and the sensor."""

import json

import dagster as dg
import httpx
import polars as pl
import pytest
from conftest import FIXTURES

from dagster_project.ingest.landing import ingest_source
from dagster_project.ingest.pulls import save_pull
from dagster_project.lib.http import PullError
from dagster_project.pulls import comtrade
from dagster_project.sources import SOURCES

KEY = "planted-secret-key-0123456789"
RECORDED = (FIXTURES / "comtrade" / "china_exports_2024_monthly_and_annual.json").read_bytes()
REQUEST = comtrade.PullRequest(period="202401", reporter_codes=(156,))


def _client(*responses: httpx.Response) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


def test_keyed_pull_sends_the_key_in_a_header_and_records_the_request_without_it():
    client, seen = _client(httpx.Response(200, content=RECORDED))
    payload, record = comtrade.pull(REQUEST, KEY, client=client)
    assert payload == RECORDED
    assert seen[0].headers["Ocp-Apim-Subscription-Key"] == KEY
    assert seen[0].url.path == "/data/v1/get/C/M/HS"
    assert dict(seen[0].url.params)["cmdCode"] == "280530,284610,284690,850511"
    assert record["endpoint"] == "data/v1/get" and record["records"] == 5
    assert KEY not in json.dumps(record)


def test_without_a_key_the_preview_endpoint_is_used():
    client, seen = _client(httpx.Response(200, content=RECORDED))
    _, record = comtrade.pull(REQUEST, None, client=client)
    assert seen[0].url.path == "/public/v1/preview/C/M/HS"
    assert "Ocp-Apim-Subscription-Key" not in seen[0].headers
    assert record["endpoint"] == "public/v1/preview"


def test_429_is_retried_after_the_delay_the_api_asks_for():
    client, seen = _client(
        httpx.Response(429, headers={"Retry-After": "0"}, text="Rate limit is exceeded"),
        httpx.Response(200, content=RECORDED),
    )
    payload, _ = comtrade.pull(REQUEST, KEY, client=client)
    assert payload == RECORDED and len(seen) == 2


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(200, text="<html><body>Access denied</body></html>"), "returned an HTML page"),
        (httpx.Response(401, text="invalid subscription key " + KEY), "refused the call (401)"),
        (httpx.Response(200, text='{"data": [], "error": "period out of range"}'), "period out of range"),
    ],
)
def test_bad_answers_are_errors_that_never_show_the_key(response: httpx.Response, message: str):
    client, _ = _client(response)
    with pytest.raises(PullError) as raised:
        comtrade.pull(REQUEST, KEY, client=client)
    assert message in str(raised.value)
    assert KEY not in str(raised.value)


def test_pulled_files_are_ingested_with_their_request(workspace):
    client, _ = _client(httpx.Response(200, content=RECORDED))
    payload, record = comtrade.pull(REQUEST, KEY, client=client)
    path = save_pull("comtrade", "202401", payload, record)
    assert path.is_relative_to(workspace["data"] / "pulled" / "comtrade")
    report = ingest_source(
        SOURCES["comtrade"],
        inbox_dir=workspace["inbox"],
        lake_dir=workspace["lake"],
        pulled_dir=workspace["data"] / "pulled",
    )
    (load,) = report.loads
    assert (load.status, load.rows_landed) == ("landed", 5)
    log = pl.read_parquet(workspace["lake"] / "audit" / "load_log" / "comtrade" / f"{load.load_id}.parquet")
    request = json.loads(log["request"][0])
    assert request["params"]["period"] == "202401"
    assert KEY not in log["request"][0]


def test_inbox_sensor_requests_only_changed_sources_and_then_skips(workspace):
    from dagster_project.definitions import defs

    (workspace["inbox"] / "fx").mkdir()
    (workspace["inbox"] / "fx" / "rates.csv").write_text("date,currency,per_usd\n2025-01-02,CNY,7.3\n")
    sensor = defs.get_sensor_def("inbox_sensor")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def())
        first = sensor.evaluate_tick(context)
        (request,) = first.run_requests
        keys = {k.to_user_string() for k in request.asset_selection}
        assert "raw_fx" in keys and "serving_marts" in keys and "raw_comtrade" not in keys
        again = sensor.evaluate_tick(
            dg.build_sensor_context(
                instance=instance, repository_def=defs.get_repository_def(), cursor=first.cursor
            )
        )
        assert again.run_requests == [] or again.run_requests is None
