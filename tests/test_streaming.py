"""The streamed (bounded-memory) landing of large CSV files gives the whole-file path's outcome.

`REE_STREAM_MIN_MB=0` sends every Comtrade and GACC CSV through `ingest/streaming.py`; a huge
threshold keeps them on the whole-file path. Each file is loaded both ways into two lakes and
compared: status, row counts, periods, GX result, messages, and every raw and quarantine Parquet
file row for row. `BATCH_ROWS` is made tiny so that the file-wide parts of the suite (the record
key's uniqueness and `mostly` thresholds, finished across batches) are exercised on small files.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import shutil
import time
from pathlib import Path

import polars as pl
from conftest import FIXTURES, SAMPLES

from dagster_project.ingest import lake as lakes
from dagster_project.ingest import landing, streaming
from dagster_project.settings import Lake
from dagster_project.sources import SOURCES

WHOLE, STREAMED = "1000000", "0"
JAPAN = SAMPLES / "comtrade" / "japan_imports_annual_2021_2024.csv"


def _both_ways(source: str, inbox: Path, work: Path, monkeypatch) -> tuple:
    reports = []
    for threshold, lake in ((WHOLE, work / "whole"), (STREAMED, work / "streamed")):
        monkeypatch.setenv("REE_STREAM_MIN_MB", threshold)
        reports.append(landing.ingest_source(SOURCES[source], inbox_dir=inbox, lake_dir=lake))
    return reports[0], reports[1]


def _assert_same(whole, streamed, work: Path) -> None:
    assert len(whole.loads) == len(streamed.loads) > 0
    for a, b in zip(whole.loads, streamed.loads, strict=True):
        fields = (
            "status",
            "rows_read",
            "rows_landed",
            "rows_quarantined",
            "rows_out_of_scope",
            "out_of_scope_reasons",
            "periods",
            "gx_success",
        )
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields], a.source_file
        if a.status == landing.LANDED or a.gx_success is False:
            assert a.message == b.message
            assert a.gx_failed == b.gx_failed or [f["expectation"] for f in a.gx_failed] == [
                f["expectation"] for f in b.gx_failed
            ]
    for kind in ("raw", "quarantine", "out_of_scope"):
        files = {
            side: sorted(p.relative_to(work / side) for p in (work / side / kind).rglob("*.parquet"))
            for side in ("whole", "streamed")
        }
        assert files["whole"] == files["streamed"], kind
        for relative in files["whole"]:
            a, b = (
                pl.read_parquet(work / side / relative).drop("_loaded_at").sort("_source_row")
                for side in ("whole", "streamed")
            )
            assert a.schema == b.schema, relative
            assert a.equals(b), relative
    staging = Lake(work / "streamed").staging_root
    assert not staging.exists() or not any(staging.iterdir()), "the work folder of a load is removed"


def _inbox(tmp_path: Path, source: str, files: list[Path], sub: str = "") -> Path:
    inbox = tmp_path / "inbox"
    folder = inbox / source / sub
    folder.mkdir(parents=True)
    for file in files:
        shutil.copy(file, folder / file.name)
    return inbox


def test_every_comtrade_csv_fixture_lands_the_same_streamed(tmp_path, monkeypatch):
    files = [
        *sorted((SAMPLES / "comtrade").glob("*.csv")),
        *sorted((FIXTURES / "comtrade").glob("*.csv")),
        *sorted((FIXTURES / "hostile" / "comtrade").glob("*.csv")),
    ]
    inbox = _inbox(tmp_path, "comtrade", files)
    gz = inbox / "comtrade" / "japan_imports.csv.gz"
    gz.write_bytes(gzip.compress(JAPAN.read_bytes()))
    _assert_same(*_both_ways("comtrade", inbox, tmp_path / "lakes", monkeypatch), tmp_path / "lakes")


def test_every_gacc_csv_fixture_lands_the_same_streamed(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    for root in (SAMPLES / "gacc", FIXTURES / "gacc", FIXTURES / "hostile" / "gacc"):
        for file in root.rglob("*.csv"):
            target = inbox / "gacc" / file.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target)
    _assert_same(*_both_ways("gacc", inbox, tmp_path / "lakes", monkeypatch), tmp_path / "lakes")


GACC_SAMPLE = SAMPLES / "gacc" / "exports" / "china_exports_2025_01-02.csv"
SOYBEANS = '202501-02,12019019,转基因黄大豆,502,美国,"1,000",千克,0,?,"4,000"'


def _with_soybeans(path: Path, *, duplicate_a_row: bool = False, bad_soybean_value: bool = False) -> Path:
    """The GACC sample (GBK, CRLF) with three soybean lines (out of scope) after its third row."""
    lines = GACC_SAMPLE.read_text(encoding="gb18030").splitlines()
    soybeans = [SOYBEANS.replace("502,美国", code) for code in ("502,美国", "410,巴西", "402,阿根廷")]
    if bad_soybean_value:
        soybeans[2] = soybeans[2].replace('"4,000"', '"4.000.0"')
    body = lines[1:] + ([lines[1]] if duplicate_a_row else [])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        "".join(f"{line}\r\n" for line in [lines[0], *body[:3], *soybeans, *body[3:]]).encode("gb18030")
    )
    return path


def test_lines_out_of_scope_are_counted_apart_the_same_streamed(tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "BATCH_ROWS", 4)
    inbox = tmp_path / "inbox"
    _with_soybeans(inbox / "gacc" / "exports" / "with_soybeans.csv")
    _with_soybeans(inbox / "gacc" / "exports" / "bad_soybean.csv", bad_soybean_value=True)
    whole, streamed = _both_ways("gacc", inbox, tmp_path / "lakes", monkeypatch)
    _assert_same(whole, streamed, tmp_path / "lakes")
    sample_rows = len(GACC_SAMPLE.read_text(encoding="gb18030").splitlines()) - 1
    by_file = {load.source_file: load for load in streamed.loads}
    good = by_file["gacc/exports/with_soybeans.csv"]
    assert (good.rows_read, good.rows_landed, good.rows_quarantined, good.rows_out_of_scope) == (
        sample_rows + 3,
        sample_rows,
        0,
        3,
    )
    assert good.out_of_scope_reasons == {"not a rare-earth product line": 3}
    kept = pl.read_parquet(
        tmp_path / "lakes" / "streamed" / "out_of_scope" / "gacc" / f"{good.load_id}.parquet"
    )
    assert kept.select("_source_row", "贸易伙伴名称", "_out_of_scope").rows() == [
        (4, "美国", "not a rare-earth product line"),
        (5, "巴西", "not a rare-earth product line"),
        (6, "阿根廷", "not a rare-earth product line"),
    ]
    # a soybean line whose value is not a number is broken, not merely out of scope
    bad = by_file["gacc/exports/bad_soybean.csv"]
    assert (bad.rows_quarantined, bad.rows_out_of_scope) == (1, 2)


def test_a_file_failing_gx_keeps_its_out_of_scope_rows_apart_the_same_streamed(tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "BATCH_ROWS", 4)
    inbox = tmp_path / "inbox"
    _with_soybeans(inbox / "gacc" / "exports" / "dup.csv", duplicate_a_row=True)
    whole, streamed = _both_ways("gacc", inbox, tmp_path / "lakes", monkeypatch)
    _assert_same(whole, streamed, tmp_path / "lakes")
    (load,) = streamed.loads
    assert load.status == landing.REJECTED and load.gx_success is False
    assert load.rows_out_of_scope == 3
    assert load.rows_quarantined == load.rows_read - 3
    assert load.rows_landed == 0


def _japan_rows() -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(JAPAN.read_text(encoding="utf-8"))))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_a_record_key_repeated_across_batches_fails_the_file_as_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "BATCH_ROWS", 10)
    header, rows = _japan_rows()
    _write(tmp_path / "inbox" / "comtrade" / "dup.csv", header, [*rows, rows[1]])
    whole, streamed = _both_ways("comtrade", tmp_path / "inbox", tmp_path / "lakes", monkeypatch)
    load = streamed.loads[0]
    assert load.status == landing.REJECTED and load.gx_success is False
    assert "expect_compound_columns_to_be_unique" in load.message and "2 unexpected" in load.message
    assert load.rows_quarantined == load.rows_read == len(rows) + 1
    _assert_same(whole, streamed, tmp_path / "lakes")


def _with_outliers(rows: list[list[str]], header: list[str], indexes: list[int]) -> list[list[str]]:
    """Rows whose unit value is 1e7 USD/kg (a scale error): outside the `mostly` range."""
    value, weight, qty = header.index("primaryValue"), header.index("netWgt"), header.index("qty")
    changed = [list(row) for row in rows]
    for i in indexes:
        changed[i][value], changed[i][weight], changed[i][qty] = "10000000", "1", "1"
    return changed


def test_mostly_is_decided_over_the_file_not_per_batch(tmp_path, monkeypatch):
    """Two outliers in one batch of ten fail that batch's `mostly` (80 % < 95 %), but 2 of 93
    rows (97.8 %) pass the file, as the whole-file path decides."""
    monkeypatch.setattr(streaming, "BATCH_ROWS", 10)
    header, rows = _japan_rows()
    _write(tmp_path / "inbox" / "comtrade" / "few.csv", header, _with_outliers(rows, header, [3, 4]))
    whole, streamed = _both_ways("comtrade", tmp_path / "inbox", tmp_path / "lakes", monkeypatch)
    assert streamed.loads[0].status == landing.LANDED
    _assert_same(whole, streamed, tmp_path / "lakes")


def test_mostly_over_the_file_fails_it_when_the_total_is_under(tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "BATCH_ROWS", 10)
    header, rows = _japan_rows()
    outliers = [3, 4, 25, 50, 70, 90]  # 6 of 93: 93.5 % < 95 %, spread over several batches
    _write(tmp_path / "inbox" / "comtrade" / "many.csv", header, _with_outliers(rows, header, outliers))
    whole, streamed = _both_ways("comtrade", tmp_path / "inbox", tmp_path / "lakes", monkeypatch)
    load = streamed.loads[0]
    assert load.status == landing.REJECTED
    assert load.message.endswith(
        "failed GX suite: expect_column_values_to_be_between(_unit_value_usd_per_kg): 6 unexpected"
    )
    _assert_same(whole, streamed, tmp_path / "lakes")


def test_a_bad_gbk_byte_past_the_head_rejects_the_file_naming_where(tmp_path, monkeypatch):
    monkeypatch.setenv("REE_STREAM_MIN_MB", STREAMED)
    good = next((SAMPLES / "gacc" / "exports").glob("*.csv")).read_bytes()
    text = good.decode("utf-8-sig") if good.startswith(b"\xef\xbb\xbf") else good.decode("gb18030")
    header, *lines = text.splitlines()
    body = "\n".join(lines[1:2] * 3000)  # well past the 64 KiB head
    data = (header + "\n" + body + "\n").encode("gb18030") + b"\x81\x20\n"
    target = tmp_path / "inbox" / "gacc" / "exports" / "big_gbk.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    report = landing.ingest_source(SOURCES["gacc"], inbox_dir=tmp_path / "inbox", lake_dir=tmp_path / "lake")
    load = report.loads[0]
    assert load.status == landing.REJECTED and load.rows_read == 0
    assert load.message.startswith(f"gacc/exports/big_gbk.csv: not valid gb18030 text (byte {len(data) - 3}")
    assert not list((tmp_path / "lake" / "raw" / "gacc").rglob("period=*/*.parquet"))


def test_a_ragged_line_deep_in_a_large_file_rejects_it_and_nothing_lands(tmp_path, monkeypatch):
    monkeypatch.setenv("REE_STREAM_MIN_MB", STREAMED)
    header, rows = _japan_rows()
    path = _write(tmp_path / "inbox" / "comtrade" / "ragged.csv", header, rows)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(",".join(rows[0]) + ",extra,fields\n")
    report = landing.ingest_source(
        SOURCES["comtrade"], inbox_dir=tmp_path / "inbox", lake_dir=tmp_path / "lake"
    )
    load = report.loads[0]
    assert load.status == landing.REJECTED
    assert load.message == (
        "comtrade/ragged.csv: cannot parse as CSV: data row 94 has more fields than the header"
    )
    assert not list((tmp_path / "lake" / "raw" / "comtrade").rglob("period=*/*.parquet"))
    record = pl.read_parquet(
        tmp_path / "lake" / "audit" / "load_log" / "comtrade" / f"{load.load_id}.parquet"
    )
    assert record["status"].to_list() == ["rejected"]


def test_the_threshold_picks_the_path(tmp_path, monkeypatch):
    spec = SOURCES["comtrade"]
    monkeypatch.setenv("REE_STREAM_MIN_MB", "0.001")  # about 1 KB
    assert streaming.applies(spec, JAPAN)
    monkeypatch.setenv("REE_STREAM_MIN_MB", "64")
    assert not streaming.applies(spec, JAPAN)
    monkeypatch.setenv("REE_STREAM_MIN_MB", "0")
    json_file = next((SAMPLES / "comtrade").glob("*.json"))
    assert not streaming.applies(spec, json_file), "API payloads are small: read whole"
    assert not streaming.applies(SOURCES["census"], json_file)


def test_a_killed_loads_work_folder_is_removed_by_a_later_run(tmp_path):
    lake = tmp_path / "lake"
    stale, live = Lake(lake).staging_dir("comtrade-old"), Lake(lake).staging_dir("comtrade-new")
    for folder in (stale, live):
        folder.mkdir(parents=True)
        (folder / "good.parquet").write_bytes(b"partial")
    old = time.time() - 2 * lakes.STALE_TEMP_SECONDS
    os.utime(stale, (old, old))
    landing.ingest_source(SOURCES["comtrade"], inbox_dir=tmp_path / "inbox", lake_dir=lake)
    assert not stale.exists() and live.exists()
