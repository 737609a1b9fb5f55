"""Hostile and broken input gets a clear answer, and nothing is lost.

Each case drops one file of `tests/fixtures/hostile/<source>/` (one trap each; the table is in the
README beside them) into a temporary inbox next to that source's good file
(`tests/fixtures/hostile/good/<source>/`) and runs the real `ingest_source`. The expected outcome is
exact: either the file is rejected with a message naming it (nothing of it lands), or it lands with
the given row counts and each quarantined row's reason. For every load the accounting
rows_read = rows_landed + rows_quarantined holds, its load_log Parquet record is the load, and
every row of the good file lands whatever the hostile file does.

The 200 MB junk files are written at test time (deterministic bytes), never committed.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import time
import tracemalloc
from pathlib import Path

import polars as pl
import pytest
from conftest import FIXTURES

from dagster_project.ingest import lake as lakes
from dagster_project.ingest.landing import ingest_source
from dagster_project.settings import Lake
from dagster_project.sources import SOURCES
from dagster_project.sources.contract import SourceFileError

HOSTILE = FIXTURES / "hostile"
GOOD = HOSTILE / "good"
# Rows of each source's good file: all of them must land in every case.
GOOD_ROWS = {"comtrade": 3, "census": 3, "gacc": 3, "prices": 2, "fx": 3, "usgs": 2}


class Prefix(str):
    """An expected message given by its beginning (the rest is long or machine-dependent)."""


def rejected(message: str) -> tuple:
    """Unreadable: nothing read, nothing landed, one message naming the file."""
    return ("rejected", message, 0, 0, 0, {}, {})


def gx_rejected(message: str, rows: int, reasons: dict[int, str]) -> tuple:
    """Read, but the file failed its GX suite: every row is kept in quarantine, none lands."""
    return ("rejected", message, rows, 0, rows, reasons, {})


def landed(
    read: int,
    landed_rows: int,
    quarantined: int,
    reasons: dict[int, str],
    out_of_scope: dict[int, str] | None = None,
) -> tuple:
    """Read and landed; `out_of_scope`: the rows counted apart (row → reason), neither landed nor
    quarantined."""
    return ("landed", None, read, landed_rows, quarantined, reasons, out_of_scope or {})


UTF8_ONLY = "re-save the file as UTF-8"
PRICE_DUPLICATE = (
    "failed GX suite: expect_compound_columns_to_be_unique(price_source,product,basis,price_date): "
    "2 unexpected"
)
USGS_DUPLICATE = (
    "failed GX suite: expect_compound_columns_to_be_unique"
    "(section,commodity,country,statistic,statistic_detail,year): 2 unexpected"
)
LOW_NOT_A_NUMBER = "low is missing or not a number"

CASES: list[tuple[str, str, tuple]] = [
    # --- comtrade ---------------------------------------------------------------------------
    (
        "comtrade",
        "truncated_payload.json",
        rejected(
            "comtrade/truncated_payload.json: invalid or truncated JSON at line 3 column 112: "
            "Expecting property name enclosed in double quotes"
        ),
    ),
    (
        "comtrade",
        "api_v2_renamed_fields.json",
        rejected(
            "comtrade/api_v2_renamed_fields.json: missing required column(s) refYear, primaryValue; "
            "found freqCode, ref_year, refMonth, period, reporterCode, reporterISO, flowCode, partnerCode, "
            "partnerISO, partner2Code, classificationCode, cmdCode, customsCode, motCode, qtyUnitCode, "
            "qtyUnitAbbr, qty, netWgt, cifvalue, fobvalue"
        ),
    ),
    (
        "comtrade",
        "apim_401_saved_as_data.json",
        rejected(
            'comtrade/apim_401_saved_as_data.json: JSON object has no "data" list (the API said: Access '
            "denied due to invalid subscription key. Make sure to provide a valid key for an active "
            "subscription.)"
        ),
    ),
    (
        "comtrade",
        "non_finite_values.json",
        landed(5, 1, 4, dict.fromkeys([1, 2, 3, 4], "primaryValue is not a number")),
    ),
    (
        "comtrade",
        "absurd_value.json",
        landed(1 + 1, 1, 1, {1: "primaryValue 1000000000000000 is implausibly large (over 1e12 USD)"}),
    ),
    ("comtrade", "mixed_line_endings.csv", landed(3, 3, 0, {})),
    (
        "comtrade",
        "formula_in_unit.csv",
        landed(
            3,
            1,
            2,
            {1: "formula-like text in qtyUnitAbbr", 2: "formula-like text in classificationCode"},
        ),
    ),
    (
        "comtrade",
        "quarantine_export_resent.csv",
        rejected(
            "comtrade/quarantine_export_resent.csv: column(s) _source_row, _reject_reason are reserved "
            "for the loader's lineage; rename them"
        ),
    ),
    # --- census ---------------------------------------------------------------------------------
    (
        "census",
        "truncated.json.gz",
        rejected(
            "census/truncated.json.gz: truncated or corrupt gzip: Compressed file ended before the "
            "end-of-stream marker was reached"
        ),
    ),
    (
        "census",
        "invalid_key_page_bom.json",
        rejected(
            "census/invalid_key_page_bom.json: is an HTML page, not JSON: the Census API answers with an "
            "HTML page (HTTP 200) when the API key is missing or invalid; check the key and pull again"
        ),
    ),
    (
        "census",
        "renamed_value_column.json",
        rejected(
            "census/renamed_value_column.json: missing required column(s) GEN_VAL_MO; found I_COMMODITY, "
            "I_COMMODITY_SDESC, CTY_CODE, CTY_NAME, GEN_VAL_MON, CON_VAL_MO, GEN_CIF_MO, GEN_QY1_MO, "
            "CON_QY1_MO, UNIT_QY1, time, COMM_LVL"
        ),
    ),
    (
        "census",
        "unknown_codes.json",
        landed(
            4,
            1,
            3,
            {
                1: "unknown partner code 9999",
                2: "unknown partner code ZZZZ",
                3: "unknown product code 2846999999 for 2025",
            },
        ),
    ),
    ("census", "header_only.json", landed(0, 0, 0, {})),
    (
        "census",
        "deeply_nested.json",
        rejected("census/deeply_nested.json: JSON is nested too deeply to be a data payload"),
    ),
    ("census", "utf8_bom.json", landed(1, 1, 0, {})),
    (
        "census",
        "dates_out_of_range.json",
        landed(
            5,
            1,
            4,
            {
                1: "time 2099-12 is out of range (2010-01 to this month)",
                2: "time 2009-12 is out of range (2010-01 to this month)",
                3: "time 0000-01 is out of range (2010-01 to this month)",
                4: "time 2025-1 is not YYYY-MM",
            },
        ),
    ),
    # --- gacc -----------------------------------------------------------------------------------
    (
        "gacc",
        "exports/negative_values.csv",
        landed(3, 1, 2, {1: "人民币 value is negative", 2: "第一数量 is negative"}),
    ),
    (
        "gacc",
        "exports/wrong_locale_numbers.csv",
        landed(
            5,
            1,
            4,
            {
                1: "人民币 value 5570986,5 is not a number",
                2: "人民币 value 1.906.257 is not a number",
                3: "第一数量 13 441 is not a number",
                4: "人民币 value 1'200'000 is not a number",
            },
        ),
    ),
    (
        "gacc",
        "exports/formula_injection.csv",
        landed(
            5,
            1,
            4,
            {
                1: "formula-like text in 贸易伙伴名称",
                2: "formula-like text in 商品名称",
                3: "formula-like text in 第一计量单位",
                4: "formula-like text in 第二计量单位",
            },
        ),
    ),
    ("gacc", "稀土出口 2025年3月 (副本).csv", landed(1, 1, 0, {})),
    (
        "gacc",
        "exports/unknown_codes.csv",
        # 99999999 is under no rare-earth heading: out of scope, not an unknown rare-earth product
        landed(3, 1, 1, {1: "unknown partner code 999"}, {2: "not a rare-earth product line"}),
    ),
    (
        "gacc",
        "exports/absurd_value.csv",
        landed(2, 1, 1, {1: "人民币 value 99,999,999,999,999,999 is implausibly large (over 1e13)"}),
    ),
    (
        "gacc",
        "exports/duplicate_value_column.csv",
        rejected(
            "gacc/exports/duplicate_value_column.csv: column(s) 人民币 appear more than once in the header; "
            "which one holds the data is ambiguous"
        ),
    ),
    # --- prices ---------------------------------------------------------------------------------
    ("prices", "empty.csv", rejected("prices/empty.csv: file is empty")),
    (
        "prices",
        "gbk_product_names.csv",
        rejected(
            f"prices/gbk_product_names.csv: not valid utf-8 text (byte 80: invalid continuation byte); "
            f"{UTF8_ONLY}"
        ),
    ),
    (
        "prices",
        "missing_high_column.csv",
        rejected(
            "prices/missing_high_column.csv: missing required column(s) high; found date, source, product, "
            "element, form, purity, basis, currency, unit, low"
        ),
    ),
    (
        "prices",
        "formula_injection.csv",
        landed(
            7,
            1,
            6,
            {
                1: "formula-like text in product",  # =HYPERLINK(...)
                2: "formula-like text in source",  # +cmd|' /C calc'!A0
                3: "formula-like text in purity",  # -1+2
                4: "formula-like text in product",  # @SUM(1+1)*cmd|...
                5: "formula-like text in source",  # a tab, then =1+1
                6: LOW_NOT_A_NUMBER,  # =1+2 in a number column
            },
        ),
    ),
    (
        "prices",
        "duplicate_rows.csv",
        gx_rejected(
            f"prices/duplicate_rows.csv: {PRICE_DUPLICATE}",
            3,
            dict.fromkeys(
                [1, 2, 3], f"file failed validation: {PRICE_DUPLICATE.removeprefix('failed GX suite: ')}"
            ),
        ),
    ),
    (
        "prices",
        "wrong_locale_thousands.csv",
        landed(5, 1, 4, dict.fromkeys([1, 2, 3, 4], LOW_NOT_A_NUMBER)),
    ),
    (
        "prices",
        "absurd_and_negative.csv",
        landed(
            4,
            1,
            3,
            {
                1: "price is implausibly large (over 1e9 per unit)",
                2: "price is not positive",
                3: LOW_NOT_A_NUMBER,  # inf
            },
        ),
    ),
    (
        "prices",
        "html_error_page.csv",
        rejected("prices/html_error_page.csv: is an HTML page, not CSV (an error page saved as data?)"),
    ),
    ("prices", "价格 表 2025 (copy).csv", landed(1, 1, 0, {})),
    (
        "prices",
        "unbalanced_quote.csv",
        rejected(
            "prices/unbalanced_quote.csv: cannot parse as CSV: the quote opened on line 3 is never closed"
        ),
    ),
    (
        "prices",
        "ragged_extra_field.csv",
        rejected(
            "prices/ragged_extra_field.csv: cannot parse as CSV: line 3 has 12 fields but the header has 11"
        ),
    ),
    # --- fx -------------------------------------------------------------------------------------
    ("fx", "header_only.csv", landed(0, 0, 0, {})),
    ("fx", "bom_crlf.csv", landed(1, 1, 0, {})),
    ("fx", "extra_columns.csv", landed(2, 2, 0, {})),
    ("fx", "unnamed_columns.csv", landed(2, 2, 0, {})),
    (
        "fx",
        "dates_out_of_range.csv",
        landed(
            6,
            1,
            5,
            {
                1: "date out of range (1990 to today)",
                2: "date out of range (1990 to today)",
                3: "date 31/12/2024 is not yyyy-mm-dd",
                4: "date 2025-02-30 is not yyyy-mm-dd",
                5: "date 45678 is not yyyy-mm-dd",
            },
        ),
    ),
    (
        "fx",
        "non_finite_rates.csv",
        landed(
            5,
            1,
            4,
            {
                1: "per_usd is missing or not a number",  # NaN
                2: "per_usd is missing or not a number",  # inf
                3: "per_usd is missing or not a number",  # 1e400
                4: "per_usd is not positive",  # -0
            },
        ),
    ),
    ("fx", "rates'; drop table raw_fx;--.csv", landed(1, 1, 0, {})),
    (
        "fx",
        "utf16_with_bom.csv",
        rejected(
            f"fx/utf16_with_bom.csv: is UTF-16 text (it starts with a UTF-16 byte-order mark); {UTF8_ONLY}"
        ),
    ),
    (
        "fx",
        "utf16_without_bom.csv",
        rejected(
            "fx/utf16_without_bom.csv: contains NUL characters at character 1: a binary file or UTF-16 "
            f"text, not UTF-8; {UTF8_ONLY}"
        ),
    ),
    # --- usgs -----------------------------------------------------------------------------------
    (
        "usgs",
        "gbk_country_names.csv",
        rejected(
            "usgs/gbk_country_names.csv: text 'ÖÐ¹ú' on line 2 is multi-byte text (GBK, Shift-JIS, …?) "
            "read as cp1252; the release is English: save the file as UTF-8"
        ),
    ),
    (
        "usgs",
        "formula_injection.csv",
        landed(
            6,
            2,
            4,
            {
                1: "formula-like text in Country",  # =HYPERLINK(...)
                2: "formula-like text in Notes",  # +cmd|...
                3: "formula-like text in Country",  # @SUM(1+1)
                4: "formula-like text in Notes",  # "- see note 2": a formula to Excel
            },
        ),
    ),
    (
        "usgs",
        "years_out_of_range.csv",
        landed(
            4,
            1,
            3,
            {
                1: "Year 2999 is out of range (1900 to next year)",
                2: "Year 1066 is out of range (1900 to next year)",
                3: "Year '0' is not a 4-digit year",
            },
        ),
    ),
    (
        "usgs",
        "renamed_columns_new_edition.csv",
        rejected(
            "usgs/renamed_columns_new_edition.csv: missing required column(s) Statistics, Value; found "
            "MCS chapter, Section, Commodity, Country, Statistic, Statistics_detail, Unit, Year, Data value, "
            "Notes, Other notes; usgs takes the long MCS data-release CSV (MCS chapter, Section, "
            "Commodity, …) or a salient, world, table 5, figure 2 or figure 3 CSV of a per-commodity release"
        ),
    ),
    (
        "usgs",
        "duplicate_rows.csv",
        gx_rejected(
            f"usgs/duplicate_rows.csv: {USGS_DUPLICATE}",
            3,
            dict.fromkeys(
                [1, 2, 3], f"file failed validation: {USGS_DUPLICATE.removeprefix('failed GX suite: ')}"
            ),
        ),
    ),
    ("usgs", "mixed_line_endings.csv", landed(3, 3, 0, {})),
    (
        "usgs",
        "header_spelt_twice.csv",
        rejected(
            "usgs/header_spelt_twice.csv: column(s) MCS chapter appear more than once in the header (spelt "
            "'MCS chapter', 'MCS Chapter'); which one holds the data is ambiguous"
        ),
    ),
]


def _place(source_file: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source_file, target)
    return target


def _good_files(source: str, inbox: Path) -> list[str]:
    """Copies the source's good file(s) into the inbox; their inbox-relative names."""
    names = []
    for path in sorted((GOOD / source).rglob("*")):
        if path.is_file():
            relative = path.relative_to(GOOD / source)
            _place(path, inbox / source / relative)
            names.append(f"{source}/{relative.as_posix()}")
    return names


def _ingest_and_check(source: str, inbox: Path, lake: Path, hostile: str, good: list[str]):
    """Runs the real ingest; checks what must hold whatever the case: every file has one load, the
    accounting holds, each load_log record is the load, and every good row landed."""
    report = ingest_source(SOURCES[source], inbox_dir=inbox, lake_dir=lake)
    loads = {load.source_file: load for load in report.loads}
    assert sorted(loads) == sorted([hostile, *good]), "every file gets exactly one load"
    raw = pl.read_parquet(lake / "raw" / source / "**" / "*.parquet")
    for load in report.loads:
        assert load.rows_read == load.rows_landed + load.rows_quarantined + load.rows_out_of_scope, load
        log = pl.read_parquet(lake / "audit" / "load_log" / source / f"{load.load_id}.parquet")
        assert log.to_dicts() == [load.record()]
        assert raw.filter(pl.col("_source_file") == load.source_file).height == load.rows_landed
    for name in good:
        load = loads[name]
        assert (load.status, load.rows_read, load.rows_landed, load.rows_quarantined) == (
            "landed",
            GOOD_ROWS[source],
            GOOD_ROWS[source],
            0,
        ), f"a good row of {name} was lost next to {hostile}"
        rows = raw.filter(pl.col("_source_file") == name)["_source_row"].sort().to_list()
        assert rows == list(range(1, GOOD_ROWS[source] + 1))
    return loads[hostile]


def _quarantine(lake: Path, source: str, load_id: str) -> dict[int, str]:
    path = lake / "quarantine" / source / f"{load_id}.parquet"
    if not path.exists():
        return {}
    return dict(pl.read_parquet(path).select("_source_row", "_reject_reason").rows())


def _out_of_scope(lake: Path, source: str, load_id: str) -> dict[int, str]:
    path = Lake(lake).out_of_scope_file(source, load_id)
    if not path.exists():
        return {}
    return dict(pl.read_parquet(path).select("_source_row", "_out_of_scope").rows())


def _check_message(message: str, expected: str) -> None:
    if isinstance(expected, Prefix):
        assert message.startswith(expected), message
    else:
        assert message == expected


@pytest.mark.parametrize(("source", "name", "expected"), CASES, ids=[f"{s}/{n}" for s, n, _ in CASES])
def test_hostile_input_gets_a_clear_answer_and_nothing_is_lost(tmp_path, source, name, expected):
    inbox, lake = tmp_path / "inbox", tmp_path / "lake"
    _place(HOSTILE / source / name, inbox / source / name)
    good = _good_files(source, inbox)
    load = _ingest_and_check(source, inbox, lake, f"{source}/{name}", good)

    status, message, read, landed_rows, quarantined, reasons, out_of_scope = expected
    assert (load.status, load.rows_read, load.rows_landed, load.rows_quarantined) == (
        status,
        read,
        landed_rows,
        quarantined,
    )
    if status == "rejected":
        _check_message(load.message, message)
        assert load.message.startswith(f"{source}/{name}: "), "a rejection names the file"
    else:
        assert load.message == lakes.landed_message(load)
        assert load.message.startswith(
            f"{landed_rows} rows landed, {quarantined} quarantined"
            if read
            else "no data rows (header only or empty list)"
        )
    assert _quarantine(lake, source, load.load_id) == reasons
    assert _out_of_scope(lake, source, load.load_id) == out_of_scope
    assert load.rows_out_of_scope == len(out_of_scope)
    # The raw text of a quarantined row is kept, so it can be fixed and sent again.
    if reasons:
        kept = pl.read_parquet(lake / "quarantine" / source / f"{load.load_id}.parquet")
        assert (kept["_source_file"] == f"{source}/{name}").all()
        assert kept.drop(
            "_source_row", "_reject_reason", "_source_file", "_load_id", "_loaded_at"
        ).dtypes == [pl.String] * (kept.width - 5)


def test_the_corpus_covers_every_fixture_and_the_readme_lists_every_case():
    files = {
        f"{path.relative_to(HOSTILE).parts[0]}/{Path(*path.relative_to(HOSTILE).parts[1:]).as_posix()}"
        for path in HOSTILE.rglob("*")
        if path.is_file() and path.parts[len(HOSTILE.parts)] in GOOD_ROWS
    }
    assert files == {f"{source}/{name}" for source, name, _ in CASES}
    readme = (HOSTILE / "README.md").read_text("utf-8")
    for source, name, _ in CASES:
        assert f"`{source}/{name}`" in readme, f"{source}/{name} is missing from the README table"
    assert len(CASES) + len(JUNK) >= 30
    assert {source for source, _, _ in CASES} == set(GOOD_ROWS)


# --- 200 MB of junk ---------------------------------------------------------------------------------

JUNK_BYTES = 200 * 1024 * 1024
BLOCK = 1024 * 1024
# (source, file name, kind of junk, how the problem the message gives begins)
JUNK = [
    ("comtrade", "junk.json", "binary", "not valid utf-8 text (byte 1: invalid start byte)"),
    ("census", "junk.json", "text", "is not JSON: it starts with 'ujz_de8gx,d6ncf10epf91d"),
    ("gacc", "exports/junk.csv", "binary", "is neither UTF-8 nor GBK/GB18030 text"),
    ("prices", "junk.csv", "text", "missing required column(s) date, source, product"),
    ("fx", "junk.csv", "binary", "not valid utf-8 text (byte 1: invalid start byte)"),
    ("usgs", "junk.csv", "text", "missing required column(s) MCS chapter, Section"),
]


@pytest.fixture(scope="module")
def junk_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """200 MB of random bytes and 200 MB of random printable lines, the same bytes on every run."""
    folder = tmp_path_factory.mktemp("junk")
    binary = random.Random(20250601).randbytes(BLOCK)
    letters = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ,;.-_"
    text = "".join(
        "".join(letters.choice(alphabet) for _ in range(99)) + "\n" for _ in range(BLOCK // 100 + 1)
    ).encode()[:BLOCK]
    files = {}
    for kind, block in (("binary", binary), ("text", text)):
        path = folder / f"junk.{kind}"
        with open(path, "wb") as handle:
            for _ in range(JUNK_BYTES // BLOCK):
                handle.write(block)
        files[kind] = path
    return files


@pytest.mark.parametrize(("source", "name", "kind", "problem"), JUNK, ids=[f"{s}-{k}" for s, _, k, _ in JUNK])
def test_200_mb_of_junk_is_refused_from_its_head(tmp_path, junk_files, source, name, kind, problem):
    inbox, lake = tmp_path / "inbox", tmp_path / "lake"
    junk = inbox / source / name
    junk.parent.mkdir(parents=True)
    os.link(junk_files[kind], junk)  # the same 200 MB, without copying it
    assert junk.stat().st_size == JUNK_BYTES

    # The reader refuses it from the first 64 KB: fast, and without the file in memory.
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(SourceFileError) as raised:
            SOURCES[source].read(junk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2.0
    assert peak < 16 * 1024 * 1024, f"the reader held {peak / 2**20:.0f} MB for a file it refuses"
    assert raised.value.problem.startswith(problem)

    good = _good_files(source, inbox)
    load = _ingest_and_check(source, inbox, lake, f"{source}/{name}", good)
    assert (load.status, load.rows_read, load.rows_landed, load.rows_quarantined) == ("rejected", 0, 0, 0)
    _check_message(load.message, Prefix(f"{source}/{name}: {problem}"))
    assert load.file_bytes == JUNK_BYTES


def test_a_file_the_reader_did_not_foresee_is_rejected_and_the_others_still_load(tmp_path):
    """An exception that is not a SourceFileError (a reader bug, a library's own error) on one file
    rejects that file with its name and the error, and never stops the source's other files."""
    spec = SOURCES["prices"]

    def read(path: Path) -> pl.DataFrame:
        if path.name == "a_reader_bug.csv":
            raise KeyError("column 'low' vanished")
        return spec.read(path)

    inbox, lake = tmp_path / "inbox", tmp_path / "lake"
    _place(HOSTILE / "prices" / "formula_injection.csv", inbox / "prices" / "a_reader_bug.csv")
    good = _good_files("prices", inbox)
    report = ingest_source(dataclasses.replace(spec, read=read), inbox_dir=inbox, lake_dir=lake)
    loads = {load.source_file: load for load in report.loads}
    bug = loads["prices/a_reader_bug.csv"]
    assert (bug.status, bug.rows_read, bug.rows_landed, bug.rows_quarantined) == ("rejected", 0, 0, 0)
    assert bug.message == (
        "prices/a_reader_bug.csv: could not be read (KeyError: \"column 'low' vanished\"); "
        "the file was rejected and the other files still load"
    )
    (good_load,) = [loads[name] for name in good]
    assert (good_load.status, good_load.rows_landed) == ("landed", GOOD_ROWS["prices"])
    log = pl.read_parquet(lake / "audit" / "load_log" / "prices" / f"{bug.load_id}.parquet")
    assert log.to_dicts() == [bug.record()]
