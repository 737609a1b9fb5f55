"""GACC parser: real-format fixtures, one trap each (see fixtures/gacc/README.md), the sample's
agreement with the Comtrade and FX samples, and a landing smoke test."""

import codecs
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import FIXTURES, SAMPLES

from dagster_project.ingest.landing import ingest_source
from dagster_project.lib import reference
from dagster_project.sources import gacc, gacc_periods
from dagster_project.sources.contract import REJECT_REASON, SourceFileError
from dagster_project.sources.rules import grouped_number, not_a_grouped_number

F = FIXTURES / "gacc"
SAMPLE = SAMPLES / "gacc" / "exports"
HEADER = "数据年月,商品编码,商品名称,贸易伙伴编码,贸易伙伴名称,第一数量,第一计量单位,第二数量,第二计量单位"
ROW = '202503,28469015,氧化镝,502,美国,"1,200",千克,,'
EXPECTED_PERIODS = "(expected e.g. 202503, 2025-03, 2025年3月 or 2025年1-2月)"


def _typed(path: Path) -> pl.DataFrame:
    return gacc.normalise(gacc.read(path))


def _rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return frame.select(columns).rows()


# --- encodings, headers, numbers -----------------------------------------------------------------


def test_gbk_export_with_spaced_headers_and_thousands_separators():
    path = F / "exports" / "rare_earth_exports_202503_gbk.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the fixture really is GBK
    typed = _typed(path)
    assert typed[REJECT_REASON].null_count() == 7
    assert _rows(
        typed, "flow", "freq", "period", "product_code", "partner_code", "partner_name", "partner_iso3"
    ) == [
        ("export", "M", "2025-03", "28469015", "000", "总值", "WLD"),
        ("export", "M", "2025-03", "28469015", "502", "美国", "USA"),
        ("export", "M", "2025-03", "28469015", "116", "日本", "JPN"),
        ("export", "M", "2025-03", "8505111000", "502", "美国", "USA"),
        ("export", "M", "2025-03", "28469017", "133", "韩国", "KOR"),
        ("export", "M", "2025-03", "2846901999", "000", "总值", "WLD"),
        ("export", "M", "2025-03", "28053013", "309", "荷兰", "NLD"),
    ]
    assert _rows(typed, "quantity_1", "unit_1", "net_weight_kg", "value", "currency", "value_usd") == [
        (12345.0, "千克", 12345.0, 29876543.0, "CNY", None),
        (1200.0, "千克", 1200.0, 2904000.0, "CNY", None),
        (4500.0, "千克", 4500.0, 10890000.0, "CNY", None),
        (646000.0, "千克", 646000.0, 154321000.0, "CNY", None),
        (12.5, "吨", 12500.0, 5450000.0, "CNY", None),  # 12.5 t = 12,500 kg
        (3000.0, "千克", 3000.0, 390000.0, "CNY", None),
        (0.0, "千克", None, 50000.0, "CNY", None),  # zero mass on a valued row: not declared
    ]
    assert typed["is_world_partner"].to_list() == [True, False, False, False, False, True, False]
    assert typed["reporter_iso3"].unique().to_list() == ["CHN"]
    assert [str(d) for d in typed["period_start"].unique()] == ["2025-03-01"]
    assert typed.select("year", "month").unique().rows() == [(2025, 3)]
    # No trade-mode or registration-place columns in this file: nullable, null.
    assert typed.select(
        "trade_mode_code", "trade_mode", "registration_place_code", "registration_place"
    ).null_count().row(0) == (7, 7, 7, 7)


def test_utf8_bom_file_named_with_import_is_imports():
    path = F / "2025年3月稀土进口_utf8bom.csv"
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    typed = _typed(path)
    assert typed[REJECT_REASON].null_count() == 3
    assert _rows(typed, "flow", "period", "partner_code", "partner_iso3", "net_weight_kg", "value") == [
        ("import", "2025-03", "106", "MMR", 1_500_000.0, 180_000_000.0),
        ("import", "2025-03", "119", "LAO", 300_000.0, 33_000_000.0),
        ("import", "2025-03", "000", "WLD", 1_850_000.0, 219_000_000.0),
    ]


def test_usd_values_and_a_count_unit_that_never_becomes_kg():
    typed = _typed(F / "exports" / "rare_earth_exports_202503_usd.csv")
    assert typed[REJECT_REASON].null_count() == 4
    assert typed["period"].unique().to_list() == ["2025-03"]  # 2025年03月
    assert _rows(
        typed, "partner_iso3", "quantity_1", "unit_1", "quantity_2", "unit_2", "net_weight_kg", "value_usd"
    ) == [
        ("WLD", 5_800_000.0, "千克", None, None, 5_800_000.0, 187_381_186.0),
        ("USA", 646_000.0, "千克", None, None, 646_000.0, 21_271_153.0),
        ("KOR", 12_000.0, "个", 3_400.0, "千克", None, 1_234_567.5),
        ("JPN", 150.0, "千克", None, None, 150.0, 44_250.0),
    ]
    assert typed["currency"].unique().to_list() == ["USD"]
    assert typed["value"].to_list() == typed["value_usd"].to_list()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234,567", 1234567.0),
        ("1234567", 1234567.0),
        (" 1,234.5 ", 1234.5),
        ("0", 0.0),
        ("-1,000", -1000.0),
        ("12,34", None),
        ("1.234.567", None),
        ("1,2345", None),
        ("1 234", None),
        ("12a", None),
    ],
)
def test_numbers_accept_thousands_separators_only(text: str, expected: float | None):
    frame = pl.DataFrame({"cell": [text]}).select(
        grouped_number("cell"), not_a_grouped_number("cell").alias("bad")
    )
    assert frame.row(0) == (expected, expected is None)


# --- rows per partner, periods, XLSX -------------------------------------------------------------


def test_trade_mode_and_registration_place_rows_are_kept_not_summed():
    typed = _typed(F / "exports" / "trade_mode_registration_2025_03.csv")
    assert typed[REJECT_REASON].null_count() == 5
    assert _rows(
        typed,
        "partner_iso3",
        "trade_mode_code",
        "trade_mode",
        "registration_place_code",
        "registration_place",
    ) == [
        ("USA", "10", "一般贸易", "33029", "浙江省宁波市"),
        ("USA", "10", "一般贸易", "36079", "江西省赣州市"),
        ("USA", "15", "进料加工贸易", "33029", "浙江省宁波市"),
        ("JPN", "10", "一般贸易", "36079", "江西省赣州市"),
        ("JPN", "10", "一般贸易", "15029", "内蒙古自治区包头市"),
    ]
    # What dbt sums over them: USA 300,000 + 150,000 + 120,000 kg; JPN 2,000 + 1,000 kg.
    totals = typed.group_by("partner_iso3").agg(pl.col("net_weight_kg", "value").sum()).sort("partner_iso3")
    assert totals.rows() == [("JPN", 3_000.0, 7_200_000.0), ("USA", 570_000.0, 136_000_000.0)]
    assert typed["period"].unique().to_list() == ["2025-03"]  # 2025年3月


def test_january_february_combined_is_one_two_month_period():
    typed = _typed(F / "exports" / "rare_earth_exports_2025_01-02_combined.csv")
    # Two rows (the trailing blank line is not a record), never split into four monthly ones.
    assert _rows(typed, "freq", "period", "year", "month", "partner_iso3", "net_weight_kg", "value") == [
        ("M2", "2025-01/02", 2025, 1, "WLD", 9_469_000.0, 2_193_000_000.0),
        ("M2", "2025-01/02", 2025, 1, "USA", 1_160_000.0, 290_700_000.0),
    ]
    assert [str(d) for d in typed["period_start"]] == ["2025-01-01", "2025-01-01"]
    assert typed[REJECT_REASON].null_count() == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("202503", ("M", "2025-03", 2025, 3)),
        ("2025-03", ("M", "2025-03", 2025, 3)),
        ("2025年03月", ("M", "2025-03", 2025, 3)),
        ("2025年3月", ("M", "2025-03", 2025, 3)),
        (" 2025-3 ", ("M", "2025-03", 2025, 3)),
        ("2025年1-2月", ("M2", "2025-01/02", 2025, 1)),
        ("2025年01-02月", ("M2", "2025-01/02", 2025, 1)),
        ("202501-02", ("M2", "2025-01/02", 2025, 1)),
        ("2025-01~02", ("M2", "2025-01/02", 2025, 1)),
        ("202501-202502", ("M2", "2025-01/02", 2025, 1)),
    ],
)
def test_period_formats(text: str, expected: tuple):
    period = gacc_periods.parse_period(text)
    assert (period.freq, period.period, period.year, period.month, period.problem) == (*expected, None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2025/03", f"unknown period format 2025/03 {EXPECTED_PERIODS}"),
        ("2025-01-02", f"unknown period format 2025-01-02 {EXPECTED_PERIODS}"),
        ("202513", "period 202513 has no month 13"),
        ("202412-202502", "period 202412-202502 spans two years"),
        (
            "2025年1-3月",
            "period 2025年1-3月 spans months 1-3: only January+February come combined "
            "(a cumulative figure is not monthly data; export single months)",
        ),
        ("", "period (数据年月) is missing"),
    ],
)  # fmt: skip
def test_period_formats_that_are_not_a_month_or_jan_feb(text: str, problem: str):
    assert gacc_periods.parse_period(text).problem == problem


def test_xlsx_numeric_cells_are_read_as_text():
    typed = _typed(F / "exports" / "rare_earth_exports_202504.xlsx")
    assert typed[REJECT_REASON].null_count() == 3
    # The empty sheet row is skipped; codes stored as numbers keep their digits (0 → 000 → WLD).
    assert _rows(
        typed, "_source_row", "period", "product_code", "partner_code", "partner_iso3", "quantity_1", "value"
    ) == [
        (1, "2025-04", "8505111000", "000", "WLD", 2_626_000.0, 618_530_000.0),
        (2, "2025-04", "8505111000", "502", "USA", 298_000.0, 73_234_567.5),
        (3, "2025-04", "28469016", "116", "JPN", 850.25, 5_100_000.0),
    ]


# --- row rules -----------------------------------------------------------------------------------


def test_bad_rows_each_get_their_reason():
    typed = _typed(F / "exports" / "bad_rows.csv")
    assert typed[REJECT_REASON].to_list() == [
        "人民币 value 12,34 is not a number",
        "第一数量 1.234.567 is not a number",
        "人民币 value is negative",
        f"unknown period format 2025/03 {EXPECTED_PERIODS}",
        "period 2025年1-3月 spans months 1-3: only January+February come combined "
        "(a cumulative figure is not monthly data; export single months)",
        "period 202513 has no month 13",
        "period 198903 is out of range (1990-2099)",
        "unknown product code 28469099 for 2025",
        "product code 284690 is not an 8- or 10-digit national code",
        "unknown partner code 999",
        "partner code 502 is 美国 in the code list, file says 日本",
        "partner code 000 is 总值 (world) in the code list, file says 美国",
        "人民币 value is missing",
        "第二数量 is negative",
        None,
    ]


def test_partners_beyond_the_reference_table_land_by_the_published_code_list():
    # Codes and names as China customs' trading-partner list publishes them (seed countries):
    # Brazil, South Africa, Chile, Estonia, India 111, Mexico 429 and DR Congo (half-width
    # parentheses, as the platform writes them) land; the Canary Islands (207, a part of Spain) are
    # not a country; 115 named 印度 is the reference note's old code for India: 115 is Israel.
    typed = _typed(F / "exports" / "other_partners_202507.csv")
    assert _rows(typed, "partner_code", "partner_iso3", REJECT_REASON) == [
        ("410", "BRA", None),
        ("244", "ZAF", None),
        ("412", "CHL", None),
        ("334", "EST", None),
        ("111", "IND", None),
        ("429", "MEX", None),
        ("252", "COD", None),
        ("207", None, "unknown partner code 207"),
        ("115", "ISR", "partner code 115 is 以色列 in the code list, file says 印度"),
    ]


def test_seed_partner_codes_are_three_digits_unique_and_named():
    countries = reference.seed("countries").filter(pl.col("gacc_code").is_not_null())
    assert countries.height == 221
    assert countries["gacc_code"].str.contains(r"^\d{3}$").all()
    assert countries["gacc_code"].is_unique().all()
    assert countries["gacc_name"].null_count() == 0
    assert countries.filter(pl.col("iso3").is_in(["CHN", "USA", "IND", "MEX", "DEU"])).sort("iso3").select(
        "iso3", "gacc_code", "gacc_name"
    ).rows() == [
        ("CHN", "142", "中国"),
        ("DEU", "304", "德国"),
        ("IND", "111", "印度"),
        ("MEX", "429", "墨西哥"),
        ("USA", "502", "美国"),
    ]
    assert countries["verified"].all()


def test_product_code_matches_the_declared_length_and_year(tmp_path: Path):
    # 85051110 (8-digit seed row) and 8505111000 (10-digit seed row) are both known; 28053012 is
    # known for 2024 and 2025 through two seed rows, so it is not counted twice.
    folder = tmp_path / "gacc" / "exports"
    folder.mkdir(parents=True)
    path = folder / "codes.csv"
    path.write_text(
        f"{HEADER},人民币\n"
        '202503,85051110,稀土永磁铁,502,美国,"1,000",千克,,,"10"\n'
        '202503,8505111000,稀土永磁铁,502,美国,"1,000",千克,,,"10"\n'
        '202403,28053012,镝,502,美国,"1",千克,,,"10"\n'
        '202503,28053012,镝,502,美国,"1",千克,,,"10"\n'
        '202503,2805301200,镝,502,美国,"1",千克,,,"10"\n',
        encoding="utf-8",
    )
    typed = _typed(path)
    assert typed[REJECT_REASON].to_list() == [
        None,
        None,
        None,
        None,
        "unknown product code 2805301200 for 2025",
    ]


# --- the flow, from where the file is ------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "flow"),
    [
        ("inbox/gacc/exports/2025_03.csv", "export"),
        ("inbox/gacc/imports/2025_03.csv", "import"),
        ("inbox/gacc/exports/2025/03.csv", "export"),
        ("inbox/gacc/2025年3月出口.csv", "export"),
        ("inbox/gacc/2025年3月进口.csv", "import"),
        ("inbox/gacc/Exports/稀土进出口.csv", "export"),  # the folder is explicit
        ("imports/inbox/gacc/exports/x.csv", "export"),  # only folders below gacc count
    ],
)
def test_flow_comes_from_the_folder_or_the_name(relative: str, flow: str):
    assert gacc.flow_from_path(Path("/data") / relative) == flow


@pytest.mark.parametrize(
    ("relative", "problem"),
    [
        (
            "exports/inbox/gacc/x.csv",
            "no flow: a GACC export has no flow column, so the flow comes from where the file is; "
            "put it in gacc/exports/ or gacc/imports/ in the inbox (or have 出口 or 进口 in its name)",
        ),
        (
            "inbox/gacc/2025年稀土进出口.csv",
            "its name says both imports and exports (进出口) but the file has no flow column; export each "
            "flow separately and put it in gacc/exports/ or gacc/imports/ in the inbox "
            "(or have 出口 or 进口 in its name)",
        ),
        (
            "inbox/gacc/exports/2025年3月进口.csv",
            "is in gacc/exports/ but its name says 进口; move it to the right folder or rename it",
        ),
        (
            "inbox/gacc/exports/imports/x.csv",
            "is under both an exports/ and an imports/ folder; put it in gacc/exports/ or gacc/imports/ "
            "in the inbox (or have 出口 or 进口 in its name)",
        ),
    ],
)
def test_flow_hints_missing_or_conflicting_are_errors(relative: str, problem: str):
    with pytest.raises(SourceFileError) as raised:
        gacc.flow_from_path(Path("/data") / relative)
    assert raised.value.problem == problem


def test_gbk_file_with_no_flow_hint_says_where_to_put_it():
    with pytest.raises(SourceFileError) as raised:
        gacc.read(F / "rare_earth_2025_03.csv")
    assert str(raised.value) == (
        "rare_earth_2025_03.csv: no flow: a GACC export has no flow column, so the flow comes from "
        "where the file is; put it in gacc/exports/ or gacc/imports/ in the inbox "
        "(or have 出口 or 进口 in its name)"
    )


# --- unreadable files ----------------------------------------------------------------------------

GOOD_CSV = f'{HEADER},人民币\n{ROW},"2,904,000"\n'


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    folder = tmp_path / "gacc" / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"\r\n", "empty.csv: file is empty"),
        (
            "page.csv",
            b"<!DOCTYPE html><html><body>\xe7\xb3\xbb\xe7\xbb\x9f\xe7\xb9\x81\xe5\xbf\x99</body></html>",
            "page.csv: is an HTML page, not CSV (an error page saved as data?)",
        ),
        (
            "book.csv",
            b"PK\x03\x04\x14\x00\x00\x00",
            "book.csv: is a zip file (an XLSX workbook?) named .csv; rename it to .xlsx",
        ),
        (
            "utf16.csv",
            GOOD_CSV.encode("utf-16"),
            "utf16.csv: is neither UTF-8 nor GBK/GB18030 text (byte 0: illegal multibyte sequence; "
            "charset_normalizer guesses utf_16); save it as CSV in GBK or UTF-8, as the query platform "
            "exports it",
        ),
        (
            "utf16le.csv",
            b"period,code,value\r\n202503,28469015,1\r\n".decode().encode("utf-16-le"),
            "utf16le.csv: contains NUL characters (UTF-16 text or a binary file? charset_normalizer "
            "guesses utf_16_le); save it as CSV in GBK or UTF-8",
        ),
        (
            "broken_utf8.csv",
            GOOD_CSV.encode("utf-8").replace("美国".encode(), b"\xe7\xbe"),
            "broken_utf8.csv: is UTF-8 with 1 corrupt byte sequence(s) (first at byte 181); "
            "re-export the file from the query platform",
        ),
        (
            "bom_not_utf8.csv",
            codecs.BOM_UTF8 + GOOD_CSV.encode("gbk"),
            "bom_not_utf8.csv: has a UTF-8 BOM but is not valid UTF-8 (byte 3: invalid continuation byte); "
            "re-export the file from the query platform",
        ),
        (
            "both.csv",
            f"{HEADER},人民币,美元\n{ROW},1,1\n".encode("gbk"),
            "both.csv: has both 人民币 and 美元 value columns; export one currency per file",
        ),
        (
            "novalue.csv",
            f"{HEADER},欧元\n{ROW},1\n".encode("gbk"),
            "novalue.csv: missing the value column: 人民币 (CNY) or 美元 (USD); found 数据年月, 商品编码, "
            "商品名称, 贸易伙伴编码, 贸易伙伴名称, 第一数量, 第一计量单位, 第二数量, 第二计量单位, 欧元",
        ),
        (
            "nopartner.csv",
            "数据年月,商品编码,商品名称,第一数量,第一计量单位,第二数量,第二计量单位,人民币\n".encode("gbk"),
            "nopartner.csv: missing required column(s) 贸易伙伴编码, 贸易伙伴名称; found 数据年月, 商品编码, "
            "商品名称, 第一数量, 第一计量单位, 第二数量, 第二计量单位, 人民币",
        ),
        ("old.xls", b"\xd0\xcf\x11\xe0", "old.xls: unsupported file type '.xls'; gacc takes .csv or .xlsx "
         "(re-save an .xls as .xlsx)"),
        (
            "page.xlsx",
            b"<html><body>session expired</body></html>",
            "page.xlsx: is an HTML page, not XLSX (an error page saved as .xlsx?)",
        ),
        (
            "plain.xlsx",
            GOOD_CSV.encode("gbk"),
            "plain.xlsx: is not an XLSX workbook (no zip signature); export it again as .xlsx",
        ),
        (
            "truncated.xlsx",
            (F / "exports" / "rare_earth_exports_202504.xlsx").read_bytes()[:300],
            "truncated.xlsx: cannot read as XLSX: calamine error: Cannot detect file format",
        ),
    ],
)  # fmt: skip
def test_unreadable_files_name_the_file_and_the_problem(tmp_path: Path, name: str, data: bytes, message: str):
    with pytest.raises(SourceFileError) as raised:
        gacc.read(_file(tmp_path, name, data))
    assert str(raised.value) == message


def test_big5_decoded_as_gb18030_is_refused_by_its_headers(tmp_path: Path):
    # Big5 bytes are valid GB18030 too, as nonsense; the headers give it away.
    text = (
        "數據年月,商品編碼,商品名稱,貿易夥伴編碼,貿易夥伴名稱,"
        "第一數量,第一計量單位,第二數量,第二計量單位,人民幣\n"
    )
    path = _file(tmp_path, "big5.csv", (text + "202503,28469015,氧化鏑,502,美國,1,千克,,,1\n").encode("big5"))
    with pytest.raises(SourceFileError) as raised:
        gacc.read(path)
    assert raised.value.problem.startswith("missing required column(s) 数据年月, 商品编码")
    assert raised.value.problem.endswith(
        "(read as GB18030; charset_normalizer guesses big5; save it as GBK or UTF-8)"
    )


# --- the sample ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    return pl.concat([_typed(path) for path in sorted(SAMPLE.glob("*.csv"))])


def _cny_per_usd() -> dict[int, float]:
    rates = pl.read_csv(SAMPLES / "fx" / "fx_rates_2020_2025.csv", schema_overrides={"date": pl.String})
    monthly = (
        rates.filter(pl.col("currency") == "CNY", pl.col("date").str.starts_with("2025-"))
        .group_by(pl.col("date").str.slice(5, 2).cast(pl.Int32).alias("month"))
        .agg(pl.col("per_usd").mean())
    )
    return dict(monthly.rows())


def test_sample_is_eleven_periods_of_gbk_exports_in_cny(sample: pl.DataFrame):
    assert sorted(p.name for p in SAMPLE.glob("*.csv")) == [
        "china_exports_2025_01-02.csv",
        *[f"china_exports_2025_{m:02d}.csv" for m in range(3, 13)],
    ]
    assert sample[REJECT_REASON].null_count() == sample.height == 1405
    assert sample.group_by("freq", "period").len().sort("period").rows()[:2] == [
        ("M2", "2025-01/02", 129),
        ("M", "2025-03", 126),
    ]
    assert sample.select("flow", "currency").unique().rows() == [("export", "CNY")]
    assert sorted(sample["partner_iso3"].unique()) == [
        "DEU", "IND", "ITA", "JPN", "KOR", "MYS", "NLD", "THA", "USA", "VNM", "WLD",
    ]  # fmt: skip


def test_sample_magnets_equal_comtrade_at_the_months_average_rate(sample: pl.DataFrame):
    payload = json.loads((SAMPLES / "comtrade" / "china_exports_monthly_2023_2025.json").read_text())
    comtrade = {
        (r["refMonth"], {0: "WLD", 842: "USA"}[r["partnerCode"]]): (r["netWgt"], r["primaryValue"])
        for r in payload["data"]
        if (r["cmdCode"], r["freqCode"], r["refYear"], r["flowCode"]) == ("850511", "M", 2025, "X")
        and r["partnerCode"] in (0, 842)
    }
    rates = _cny_per_usd()
    magnets = sample.filter(
        pl.col("product_code") == "8505111000", pl.col("partner_iso3").is_in(["WLD", "USA"])
    )
    assert magnets.height == 22
    for row in magnets.iter_rows(named=True):
        months = [1, 2] if row["freq"] == "M2" else [row["month"]]
        kg = sum(comtrade[(m, row["partner_iso3"])][0] for m in months)
        cny = sum(comtrade[(m, row["partner_iso3"])][1] * rates[m] for m in months)
        assert row["net_weight_kg"] == kg
        assert abs(row["value"] - cny) <= 0.5, row
    # By hand: Jan+Feb world 4,769,000 + 4,700,000 kg; Nov to the US 582,000 kg, USD 20,096,463.
    by_key = {(r[0], r[1]): r[2:] for r in _rows(magnets, "period", "partner_iso3", "net_weight_kg", "value")}
    assert by_key[("2025-01/02", "WLD")][0] == 9_469_000
    assert by_key[("2025-11", "USA")] == (582_000, round(20_096_463 * rates[11]))


def test_sample_dy_and_tb_oxide_collapse_after_april_and_recover_partly_from_june(sample: pl.DataFrame):
    world = sample.filter(pl.col("partner_iso3") == "WLD")
    for code in ("28469015", "28469016"):
        kg = dict(_rows(world.filter(pl.col("product_code") == code), "period", "net_weight_kg"))
        assert kg["2025-05"] < 0.1 * kg["2025-03"]
        assert 0.1 * kg["2025-03"] < kg["2025-06"] < kg["2025-03"]
        assert max(kg[f"2025-{m:02d}"] for m in range(6, 13)) < kg["2025-03"]
    # Magnets did not collapse: May is the trough, but still above a fifth of March.
    magnets = dict(_rows(world.filter(pl.col("product_code") == "8505111000"), "period", "net_weight_kg"))
    assert magnets["2025-05"] == 1_238_000 > 0.2 * magnets["2025-03"]


# --- landing -------------------------------------------------------------------------------------

LANDING_FIXTURES = {
    "exports/rare_earth_exports_202503_gbk.csv": (7, 7, 0),
    "exports/rare_earth_exports_202503_usd.csv": (4, 4, 0),
    "exports/rare_earth_exports_202504.xlsx": (3, 3, 0),
    "exports/rare_earth_exports_2025_01-02_combined.csv": (2, 2, 0),
    "exports/trade_mode_registration_2025_03.csv": (5, 5, 0),
    "exports/bad_rows.csv": (15, 1, 14),
    "2025年3月稀土进口_utf8bom.csv": (3, 3, 0),
}


def test_sample_and_fixtures_land_and_pass_the_gx_suite(workspace):
    inbox, lake = workspace["inbox"], workspace["lake"]
    shutil.copytree(SAMPLE, inbox / "gacc" / "exports")
    for relative in LANDING_FIXTURES:
        (inbox / "gacc" / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(F / relative, inbox / "gacc" / relative)
    report = ingest_source(gacc.SPEC, inbox_dir=inbox, lake_dir=lake)
    loads = {load.source_file.removeprefix("gacc/"): load for load in report.loads}
    assert len(loads) == 11 + len(LANDING_FIXTURES)
    assert {name: load.status for name, load in loads.items() if load.status != "landed"} == {}
    assert all(load.gx_success for load in loads.values())
    for relative, counts in LANDING_FIXTURES.items():
        load = loads[relative]
        assert (load.rows_read, load.rows_landed, load.rows_quarantined) == counts, relative
    assert loads["exports/china_exports_2025_01-02.csv"].periods == ["2025-01/02"]
    assert (report.rows_read, report.rows_landed, report.rows_quarantined) == (1405 + 39, 1405 + 25, 14)

    landed = pl.read_parquet(lake / "raw" / "gacc" / "**" / "*.parquet")
    assert landed.height == 1430
    assert landed.filter(pl.col("flow") == "import")["_source_file"].unique().to_list() == [
        "gacc/2025年3月稀土进口_utf8bom.csv"
    ]
    assert landed.filter(pl.col("freq") == "M2").group_by("_source_file").len().sort(
        "_source_file"
    ).rows() == [
        ("gacc/exports/china_exports_2025_01-02.csv", 129),
        ("gacc/exports/rare_earth_exports_2025_01-02_combined.csv", 2),
    ]
    bad = loads["exports/bad_rows.csv"]
    quarantine = pl.read_parquet(lake / "quarantine" / "gacc" / f"{bad.load_id}.parquet")
    # The raw text is kept, with the flow read from the path.
    assert quarantine.filter(pl.col("_source_row") == 1).select(
        "人民币", gacc.FLOW_COLUMN, REJECT_REASON
    ).row(0) == ("12,34", "export", "人民币 value 12,34 is not a number")


def test_duplicate_record_keys_fail_the_suite_and_reject_the_file(workspace):
    text = (F / "exports" / "trade_mode_registration_2025_03.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    folder = workspace["inbox"] / "gacc" / "exports"
    folder.mkdir(parents=True)
    (folder / "twice.csv").write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    (load,) = ingest_source(gacc.SPEC, inbox_dir=workspace["inbox"], lake_dir=workspace["lake"]).loads
    assert (load.status, load.gx_success) == ("rejected", False)
    assert [(f["expectation"], f["unexpected_count"]) for f in load.gx_failed] == [
        ("expect_compound_columns_to_be_unique", 2)
    ]
    assert (load.rows_read, load.rows_landed, load.rows_quarantined) == (6, 0, 6)


# The revision key is tested by what it does (test_revision_keys.py: a later file replaces every
# figure of its flow and month), the accepted suffixes by the refusal of an .xls (above).
def test_suite_covers_the_landing_schema():
    (columns,) = [kw["column_set"] for name, kw in gacc.suite() if name == "ExpectTableColumnsToMatchSet"]
    assert columns == [*gacc.LANDING_SCHEMA, *gacc.SPEC.derived_for_validation]


def test_lines_under_no_rare_earth_heading_are_out_of_scope_at_any_code_level(tmp_path):
    from dagster_project.sources.contract import OUT_OF_SCOPE

    header = ",".join(
        [gacc.PERIOD, gacc.PRODUCT_CODE, gacc.PRODUCT_NAME, gacc.PARTNER_CODE, gacc.PARTNER_NAME]
        + [gacc.QUANTITY_1, gacc.UNIT_1, gacc.QUANTITY_2, gacc.UNIT_2, "人民币"]
    )
    lines = [
        "202503,12019019,转基因黄大豆,502,美国,1000,千克,0,?,4000",  # soybeans, 8 digits
        "202503,1201,大豆,502,美国,1000,千克,0,?,4000",  # soybeans at heading level
        "202503,12019019,转基因黄大豆,999,无此国,1000,千克,0,?,4000",  # unknown partner: still out of scope
        "202503,12019019,转基因黄大豆,502,美国,1000,千克,0,?,4.000.0",  # broken value: quarantined
        "202503,2846,稀土化合物,502,美国,1000,千克,,,4000",  # a rare-earth aggregate: quarantined
        "202503,28469999,未知稀土,502,美国,1000,千克,,,4000",  # unknown rare-earth line: quarantined
        "202503,28469015,氧化镝,502,美国,1000,千克,,,4000",  # a rare-earth line: lands
    ]
    path = tmp_path / "exports" / "mixed.csv"
    path.parent.mkdir()
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    typed = _typed(path)
    scope = "not a rare-earth product line"
    assert typed.select(OUT_OF_SCOPE, REJECT_REASON).rows() == [
        (scope, None),
        (scope, None),
        (scope, None),
        (None, "人民币 value 4.000.0 is not a number"),
        (None, "product code 2846 is not an 8- or 10-digit national code"),
        (None, "unknown product code 28469999 for 2025"),
        (None, None),
    ]


def test_unit_names_and_value_basis_are_decided_at_ingest(tmp_path):
    header = ",".join([*gacc.REQUIRED, "人民币"])
    lines = [
        '2025-03,28469019,其他氧化稀土,106,缅甸,"1,500",千克,,,"180,000"',
        "2025-03,28469019,其他氧化稀土,119,老挝,2,吨,,,33000",
        "2025-03,85051110,稀土永磁体,116,日本,40,个,,,9000",
        "2025-03,85051110,稀土永磁体,502,美国,3,套,,,7000",
    ]
    frames = {}
    for folder in ("imports", "exports"):
        path = tmp_path / folder / "rare_earth_2025_03.csv"
        path.parent.mkdir()
        path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
        frames[folder] = _typed(path)
    assert frames["imports"][REJECT_REASON].null_count() == 4
    assert _rows(frames["imports"], "unit_1", "quantity_unit", "net_weight_kg", "value_basis") == [
        ("千克", "kg", 1500.0, "CIF"),
        ("吨", "t", 2000.0, "CIF"),
        ("个", "u", None, "CIF"),  # a count of pieces: never kilograms
        ("套", "套", None, "CIF"),  # a unit with no short name: as declared
    ]
    assert frames["exports"]["value_basis"].unique().to_list() == ["FOB"]
