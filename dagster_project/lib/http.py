"""HTTP for the live pulls: retries with backoff (tenacity), and keys kept out of every message.

Free tiers answer 429 when called too fast; the retry waits (honouring `Retry-After`, else
exponential backoff) instead of failing the partition. Keys travel in headers or query
parameters but never appear in logs, metadata or exceptions: `redact` removes them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import httpx
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

RETRY_STATUSES = {429, 500, 502, 503, 504}
_SECRET_PARAMS = re.compile(r"(?i)((?:key|subscription-key|api_key|token)=)[^&\s]+")


class PullError(RuntimeError):
    """A live pull that returned no usable data. The message never contains a key."""


def redact(text: str, *secrets: str | None) -> str:
    text = _SECRET_PARAMS.sub(r"\1***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    """Redacts key parameters from a log record: httpx logs every request's full URL at INFO
    ("HTTP Request: GET https://api.census.gov/...&key=..."), and a key travels in that URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


# Filters on a logger see the records logged to that logger itself: httpx logs requests to "httpx".
for _name in ("httpx", "httpcore"):
    if not any(isinstance(f, RedactingFilter) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(RedactingFilter())


def _retryable(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in RETRY_STATUSES
    return isinstance(error, httpx.TransportError)


def _wait(retry_state) -> float:  # noqa: ANN001 (tenacity's state type)
    error = retry_state.outcome.exception() if retry_state.outcome else None
    if isinstance(error, httpx.HTTPStatusError):
        after = error.response.headers.get("Retry-After", "")
        if after.isdigit():
            return min(float(after), 60.0)
    return wait_exponential(multiplier=1, min=1, max=30)(retry_state)


def get(
    client: httpx.Client,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    attempts: int = 5,
) -> httpx.Response:
    """GET with retries on 429, 5xx and transport errors; other statuses are returned as is."""

    @retry(
        retry=retry_if_exception(_retryable),
        wait=_wait,
        stop=stop_after_attempt(attempts),
        reraise=True,
    )
    def _once() -> httpx.Response:
        response = client.get(url, params=params, headers=headers)
        if response.status_code in RETRY_STATUSES:
            response.raise_for_status()
        return response

    try:
        return _once()
    except httpx.HTTPStatusError as err:
        raise PullError(
            f"{redact(str(err.request.url))} still answered HTTP {err.response.status_code} "
            f"after {attempts} attempts; try again later (free tiers limit calls per second and per day)"
        ) from None
    except httpx.TransportError as err:
        url = redact(str(err.request.url))
        raise PullError(f"network error calling {url}: {type(err).__name__}") from None
