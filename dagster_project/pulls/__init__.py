"""Live API pulls, pure: an httpx client in, the payload bytes and the request record out.

Every source with an API has one module here with one signature,
`pull(request, api_key, client=None) -> Pulled`: `request` says what to ask for (a frozen
dataclass of that API's parameters), `api_key` may be None where the API has a keyless tier, and
`client` is for tests (a replayed transport); without it a client is opened and closed. Neither
the payload nor the record holds the key, and every `http.PullError` message has it redacted.
The Dagster assets that save a pull for the inbox are `ingest.pulls`.
"""

from typing import Any, NamedTuple


class Pulled(NamedTuple):
    """A pull's result: the API's response bytes, untouched, and what was asked (no key), which
    is saved beside the payload and kept in its load record."""

    payload: bytes
    request: dict[str, Any]
