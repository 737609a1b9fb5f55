"""UN Comtrade API v1 (`/data/v1/get/...`): a JSON envelope around records, or the same records as
a CSV download (the bulk files), columns in the API's order."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

# Every field of an API v1 record, in the API's order (the CSV download's columns).
FIELDS = [
    "typeCode", "freqCode", "refPeriodId", "refYear", "refMonth", "period",
    "reporterCode", "reporterISO", "reporterDesc", "flowCode", "flowDesc",
    "partnerCode", "partnerISO", "partnerDesc", "partner2Code", "partner2ISO", "partner2Desc",
    "classificationCode", "classificationSearchCode", "isOriginalClassification",
    "cmdCode", "cmdDesc", "aggrLevel", "isLeaf", "customsCode", "customsDesc",
    "mosCode", "motCode", "motDesc", "qtyUnitCode", "qtyUnitAbbr", "qty", "isQtyEstimated",
    "altQtyUnitCode", "altQtyUnitAbbr", "altQty", "isAltQtyEstimated",
    "netWgt", "isNetWgtEstimated", "grossWgt", "isGrossWgtEstimated",
    "cifvalue", "fobvalue", "primaryValue", "legacyEstimationFlag", "isReported", "isAggregate",
]  # fmt: skip


def payload(records: list[dict], elapsed: str, *, compact: bool = True, error_key: bool = True) -> bytes:
    """The API's answer, one record per line. compact: no spaces after separators (as the API
    sends it); error_key: the trailing `"error":""` of a successful call (older answers omit it)."""
    if compact:
        body = ",\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records)
        head = '{"elapsedTime":' + json.dumps(elapsed) + ',"count":' + str(len(records)) + ',"data":[\n'
        tail = '\n],"error":""}\n' if error_key else "\n]}\n"
    else:
        body = ",\n".join(json.dumps(r, ensure_ascii=False) for r in records)
        head = f'{{"elapsedTime": {json.dumps(elapsed)}, "count": {len(records)}, "data": [\n'
        tail = '\n], "error": ""}\n' if error_key else "\n]}\n"
    return (head + body + tail).encode("utf-8")


def write_payload(path: Path, records: list[dict], elapsed: str, **options: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload(records, elapsed, **options))
    return path


def payload_head(count: int, elapsed: str) -> bytes:
    """The envelope's opening, for a payload written in chunks (the benchmark's large files)."""
    return b'{"elapsedTime":%s,"count":%d,"data":[' % (json.dumps(elapsed).encode(), count)


PAYLOAD_TAIL_CHUNKED = b"]}\n"


def csv_bytes(rows: list[list], header: list[str] = FIELDS, newline: str = "\n") -> bytes:
    """The CSV download: a header line, then one line per record (None as an empty cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_csv(path: Path, rows: list[list], header: list[str] = FIELDS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(rows, header))
    return path


def frame_chunk_bytes(frame, include_header: bool) -> bytes:
    """One chunk of a large CSV download from a polars frame with the FIELDS columns (benchmark)."""
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=include_header, null_value="")
    return buffer.getvalue()
