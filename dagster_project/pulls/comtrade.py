"""UN Comtrade API v1: one call for a period and some reporters (`sources.comtrade` reads what it
returns). The keyed endpoint with `COMTRADE_API_KEY`, else the public preview (500 records a
call); retries and key redaction come from `lib.http`."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from dagster_project.lib import http
from dagster_project.pulls import Pulled
from dagster_project.sources.textio import looks_like_html

API_URL = "https://comtradeapi.un.org/data/v1/get/C/{freq}/HS"
PREVIEW_URL = "https://comtradeapi.un.org/public/v1/preview/C/{freq}/HS"
DEFAULT_CMD_CODES = ("280530", "284610", "284690", "850511")


@dataclass(frozen=True)
class PullRequest:
    """One Comtrade API call: a period (`2025` annual or `202503` monthly) for some reporters."""

    period: str
    reporter_codes: tuple[int, ...]
    cmd_codes: tuple[str, ...] = DEFAULT_CMD_CODES
    flow_codes: tuple[str, ...] = ("M", "X")
    partner_codes: tuple[int, ...] = ()  # empty: every partner, World included

    @property
    def freq(self) -> str:
        return "A" if len(self.period) == 4 else "M"

    def params(self) -> dict[str, str]:
        params = {
            "reporterCode": ",".join(str(c) for c in self.reporter_codes),
            "period": self.period,
            "cmdCode": ",".join(self.cmd_codes),
            "flowCode": ",".join(self.flow_codes),
            "partner2Code": "0",
            "customsCode": "C00",
            "motCode": "0",
            "includeDesc": "true",
        }
        if self.partner_codes:
            params["partnerCode"] = ",".join(str(c) for c in self.partner_codes)
        return params


def pull(request: PullRequest, api_key: str | None, client: httpx.Client | None = None) -> Pulled:
    """Call the API (the keyed endpoint with `COMTRADE_API_KEY`, else the public preview, which
    caps a call at 500 records). Returns the payload bytes and the request record to keep with
    the load; neither contains the key."""
    own_client = client is None
    client = client or httpx.Client(timeout=120)
    url = (API_URL if api_key else PREVIEW_URL).format(freq=request.freq)
    headers = {"Ocp-Apim-Subscription-Key": api_key} if api_key else {}
    try:
        response = http.get(client, url, params=request.params(), headers=headers)
    finally:
        if own_client:
            client.close()
    shown = http.redact(str(response.request.url), api_key)
    if response.status_code in (401, 403):
        raise http.PullError(f"Comtrade refused the call ({response.status_code}): check COMTRADE_API_KEY")
    if response.status_code != 200:
        raise http.PullError(f"Comtrade answered HTTP {response.status_code} for {shown}")
    text = response.text
    if looks_like_html(text):
        raise http.PullError(f"Comtrade returned an HTML page, not JSON, for {shown}")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as err:
        raise http.PullError(f"Comtrade returned invalid JSON for {shown}: {err.msg}") from None
    # What the API says is shown, but never the key, even when the answer echoes it.
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        said = http.redact(str(payload), api_key)[:200]
        raise http.PullError(f"Comtrade returned no data list for {shown}: {said}")
    if payload.get("error"):
        said = http.redact(str(payload["error"]), api_key)[:300]
        raise http.PullError(f"Comtrade reported an error for {shown}: {said}")
    record = {
        "endpoint": "data/v1/get" if api_key else "public/v1/preview",
        "url": shown,
        "params": request.params(),
        "records": len(payload["data"]),
        "preview_capped": (not api_key) and len(payload["data"]) >= 500,
    }
    return Pulled(response.content, record)
