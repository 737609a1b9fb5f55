"""US Census Bureau international trade API: one month of one flow, every rare-earth heading in one
payload (`sources.census` reads what it returns). Retries and key redaction come from `lib.http`.

A file is the unit of revision for (flow, period): a later file for the same flow and month
replaces every figure of the earlier one, so `pull` saves a month whole (every commodity wildcard
in one payload), never one wildcard per file. The API answers 204 with no body for a comma list
of commodities, so each wildcard is its own call (`call`).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx

from dagster_project.lib import http
from dagster_project.pulls import Pulled
from dagster_project.sources.census import COLUMNS, EXPORT, IMPORT
from dagster_project.sources.textio import looks_like_html

logger = logging.getLogger(__name__)

API_ROOT = "https://api.census.gov/data/timeseries/intltrade"
ENDPOINTS = {IMPORT: "imports/hs", EXPORT: "exports/hs"}
PULL_FIELDS = {
    IMPORT: [
        "I_COMMODITY",
        "I_COMMODITY_SDESC",
        "CTY_CODE",
        "CTY_NAME",
        "GEN_VAL_MO",
        "CON_VAL_MO",
        "GEN_CIF_MO",
        "GEN_QY1_MO",
        "CON_QY1_MO",
        "UNIT_QY1",
    ],
    EXPORT: [
        "E_COMMODITY",
        "E_COMMODITY_SDESC",
        "CTY_CODE",
        "CTY_NAME",
        "ALL_VAL_MO",
        "QTY_1_MO",
        "UNIT_QY1",
    ],
}
# Every rare-earth line of the seed sits under one of these headings.
MONTH_WILDCARDS = ("2805*", "2846*", "8505*")
MAX_ATTEMPTS = 5
TIMEOUT = httpx.Timeout(60.0, connect=15.0)
NO_DATA = "no data: Census returns 204 for a comma list of commodities; use one wildcard per call"
HTML_RESPONSE = "the response is an HTML page: the API key is missing or invalid"


class CensusPullError(http.PullError):
    """A Census pull that returned no usable data. The message never contains the API key."""


class CensusNoData(CensusPullError):
    """HTTP 204 / empty body: nothing for that query (or a comma list of commodities)."""


def _query(flow: str, month: str, commodity: str) -> tuple[str, dict[str, str]]:
    """The endpoint and its parameters, without the key."""
    if flow not in ENDPOINTS:
        raise ValueError(f"flow must be {IMPORT!r} or {EXPORT!r}, not {flow!r}")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValueError(f"month must be YYYY-MM, not {month!r}")
    if "," in commodity:
        raise ValueError(f"{NO_DATA} (got {commodity!r})")
    return f"{API_ROOT}/{ENDPOINTS[flow]}", {
        "get": ",".join(PULL_FIELDS[flow]),
        COLUMNS[flow]["commodity"]: commodity,
        "time": month,
        "SUMMARY_LVL": "DET",
        "COMM_LVL": "HS10",
    }


def call(
    flow: str,
    month: str,
    api_key: str,
    commodity: str = "2846*",
    client: httpx.Client | None = None,
) -> bytes:
    """One month of one flow for one commodity code or wildcard, as the API's response bytes.

    Retries 429, 5xx, timeouts and network errors with exponential backoff (`lib.http.get`, at
    most MAX_ATTEMPTS calls). Raises `http.PullError` (`CensusPullError`, `CensusNoData`) with the
    URL shown with its key redacted, and `ValueError` on arguments the API cannot answer.
    """
    url, params = _query(flow, month, commodity)
    if not api_key:
        raise ValueError("api_key is empty: the Census API answers an HTML page without a key")
    own_client = client is None
    session = client if client is not None else httpx.Client(timeout=TIMEOUT)
    try:
        response = http.get(session, url, params={**params, "key": api_key}, attempts=MAX_ATTEMPTS)
    finally:
        if own_client:
            session.close()
    shown = http.redact(str(response.request.url), api_key)
    logger.info("census pull %s: HTTP %d", shown, response.status_code)

    body = response.content
    if response.status_code == 204 or not body.strip():
        raise CensusNoData(
            f"{shown}: {NO_DATA} (HTTP {response.status_code}, empty body; a 204 also means nothing "
            "matched, or the month is not published yet)"
        )
    text = body.decode("utf-8", errors="replace")
    if response.status_code != 200:
        raise CensusPullError(
            f"{shown}: HTTP {response.status_code}: {http.redact(text.strip()[:200], api_key)}"
        )
    if looks_like_html(text):
        raise CensusPullError(f"{shown}: {HTML_RESPONSE}")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as err:
        raise CensusPullError(f"{shown}: the response is not JSON ({err.msg} at line {err.lineno})") from None
    if not (isinstance(payload, list) and payload and all(isinstance(r, list) for r in payload)):
        raise CensusPullError(f"{shown}: the response is not an array of arrays with a header row")
    return body


@dataclass(frozen=True)
class MonthRequest:
    """One flow-month: every wildcard of `commodities` (one call each) in one payload."""

    flow: str
    month: str
    commodities: tuple[str, ...] = MONTH_WILDCARDS

    def record(self) -> dict[str, Any]:
        """What `pull` asks for, to save beside its payload (`ingest.pulls.save_pull`); no key."""
        url, params = _query(self.flow, self.month, self.commodities[0])
        return {
            "endpoint": url,
            "params": {k: v for k, v in params.items() if k != COLUMNS[self.flow]["commodity"]},
            "commodities": list(self.commodities),
        }


def pull(request: MonthRequest, api_key: str | None, client: httpx.Client | None = None) -> Pulled:
    """Every wildcard of one flow-month in one response-shaped payload (one header row).

    The revision key is (flow, period): a file replaces every figure of an earlier file for the
    same flow and month, so one file must carry the whole month. A wildcard with no trade (204)
    adds nothing; all wildcards empty is an error.
    """
    flow, month, commodities = request.flow, request.month, request.commodities
    header: list[str] | None = None
    rows: list[list[Any]] = []
    for commodity in commodities:
        try:
            payload = json.loads(call(flow, month, api_key or "", commodity, client))
        except CensusNoData:
            logger.info("census pull %s %s %s: no data (204)", flow, month, commodity)
            continue
        if header is None:
            header = payload[0]
        elif payload[0] != header:
            raise CensusPullError(f"{flow} {month} {commodity}: header differs from the first wildcard's")
        rows.extend(payload[1:])
    if header is None:
        raise CensusNoData(
            f"{flow} {month}: {NO_DATA} (every wildcard of {', '.join(commodities)} was empty)"
        )
    # The API's own layout: one row per line.
    lines = [json.dumps(row, ensure_ascii=False) for row in [header, *rows]]
    return Pulled(("[" + ",\n".join(lines) + "]").encode("utf-8"), request.record())
