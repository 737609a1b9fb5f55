"""Census parser and pull: real-format fixtures, one trap each (see fixtures/census/README.md)."""

import datetime
import json
import logging
from pathlib import Path

import httpx
import polars as pl
import pytest
from conftest import FIXTURES, SAMPLES, drop

from dagster_project.ingest.landing import ingest_source
from dagster_project.lib import reference
from dagster_project.lib.http import PullError
from dagster_project.pulls import census as census_pull
from dagster_project.sources import census
from dagster_project.sources.contract import OUT_OF_SCOPE, REJECT_REASON, SourceFileError

F = FIXTURES / "census"
API = F / "api"
KEY = "test-key-0123456789abcdef"


def _typed(path: Path) -> pl.DataFrame:
    return census.normalise(census.read(path))


# --- parser -----------------------------------------------------------------------------------


def test_world_total_and_groupings_are_flagged_never_countries():
    typed = _typed(F / "imports_2025-03_traps.json")
    assert typed.height == 13
    assert typed[REJECT_REASON].null_count() == 13
    line = typed.filter(pl.col("commodity") == "2846908000")
    world = line.filter(pl.col("is_world_partner"))
    assert world.select("cty_code", "partner_iso3", "is_grouping", "value_usd").rows() == [
        ("-", "WLD", False, 1_000_000.0)
    ]
    groupings = line.filter(pl.col("is_grouping")).sort("cty_code")
    # 0003 and 0014 from the seed, 0030 by its leading 0, 4XXX (a region) by its XXX
    assert groupings["cty_code"].to_list() == ["0003", "0014", "0030", "4XXX"]
    assert groupings["partner_iso3"].to_list() == [None, None, None, None]
    countries = line.filter(~pl.col("is_world_partner") & ~pl.col("is_grouping")).sort("cty_code")
    assert countries.select("partner_iso3", "value_usd").rows() == [
        ("EST", 100_000.0),
        ("CHN", 600_000.0),
        ("JPN", 300_000.0),
    ]
    # the country rows add up to the world row; a grouping added on top would double count
    assert countries["value_usd"].sum() == world["value_usd"][0]


def test_imports_use_general_customs_value_and_keep_consumption_and_cif():
    china = (
        _typed(F / "imports_2025-03_traps.json")
        .filter((pl.col("commodity") == "2846908000") & (pl.col("cty_code") == "5700"))
        .row(0, named=True)
    )
    assert (china["flow"], china["period"], china["period_start"], china["year"], china["month"]) == (
        "import",
        "2025-03",
        datetime.date(2025, 3, 1),
        2025,
        3,
    )
    assert (china["value_usd"], china["value_basis"]) == (600_000.0, "customs")
    # Decided at ingest, as for the other sources: the reporter and the frequency of every row.
    assert (china["reporter_iso3"], china["freq"]) == ("USA", "M")
    assert (china["con_value_usd"], china["gen_cif_value_usd"], china["df_code"]) == (
        590_000.0,
        618_000.0,
        None,
    )
    assert (china["quantity"], china["quantity_unit"], china["net_weight_kg"]) == (20_000.0, "KG", 20_000.0)


def test_only_mass_units_give_kilograms():
    typed = _typed(F / "imports_2025-03_traps.json").filter(~pl.col("is_world_partner"))
    by_line = {
        (r["commodity"], r["cty_code"]): (r["quantity"], r["quantity_unit"], r["net_weight_kg"])
        for r in typed.iter_rows(named=True)
    }
    assert by_line[("2846100000", "5570")] == (30.0, "T", 30_000.0)  # metric tons x 1000
    assert by_line[("8505110030", "5700")] == (1_000_000.0, "NO", None)  # a count is never kg
    assert by_line[("8505110070", "5800")] == (0.0, "KG", None)  # 0 kg on USD 250,000: not declared
    assert by_line[("2805300020", "5520")] == (0.0, "X", None)  # X: no quantity at all


def test_exports_keep_the_df_split_and_fas_value_as_fob():
    typed = _typed(F / "exports_2025-03_df_split.json")
    assert typed[REJECT_REASON].null_count() == 7
    assert set(typed["flow"]) == {"export"}
    assert set(typed["value_basis"]) == {"FOB"}
    assert typed["con_value_usd"].null_count() == typed["gen_cif_value_usd"].null_count() == 7
    mexico = typed.filter(pl.col("partner_iso3") == "MEX").sort("df_code")
    assert mexico.select("df_code", "value_usd", "net_weight_kg").rows() == [
        ("1", 800_000.0, 16_000.0),
        ("2", 200_000.0, 4_000.0),
    ]
    countries = typed.filter(~pl.col("is_world_partner") & ~pl.col("is_grouping"))
    world = typed.filter(pl.col("is_world_partner"))
    # summed over DF (downstream's job), countries add up to the world total
    assert countries["value_usd"].sum() == world["value_usd"].sum() == 1_400_000.0
    assert typed.select(census.RECORD_KEY).is_unique().all()


def test_bad_import_rows_each_get_their_reason():
    reasons = _typed(F / "bad_rows.json")[REJECT_REASON].to_list()
    assert reasons == [
        "GEN_VAL_MO is not a number",
        "GEN_VAL_MO is negative",
        "time 2025-13 is not YYYY-MM",
        "time 2009-12 is out of range (2010-01 to this month)",
        "CTY_CODE is missing",
        "unknown partner code 9999",
        "I_COMMODITY 284690 is not a 10-digit code",
        "unknown product code 2846909999 for 2025",
        "CON_VAL_MO is not a number",
        "GEN_QY1_MO is not a number",
        None,
    ]


def test_lines_under_no_rare_earth_heading_are_out_of_scope_not_quarantined(tmp_path):
    header = ["I_COMMODITY", "CTY_CODE", "CTY_NAME", "GEN_VAL_MO", "GEN_QY1_MO", "UNIT_QY1", "time"]
    rows = [
        ["1201900095", "5700", "CHINA", "1000", "10", "KG", "2025-03"],  # soybeans
        ["1201900095", "9999", "NOWHERE", "1000", "10", "KG", "2025-03"],  # soybeans, unknown partner
        ["1201900095", "5700", "CHINA", "(D)", "10", "KG", "2025-03"],  # soybeans, broken value
        ["2846999999", "5700", "CHINA", "1000", "10", "KG", "2025-03"],  # unknown rare-earth line
        ["2846908000", "5700", "CHINA", "1000", "10", "KG", "2025-03"],  # a rare-earth line
        ["030111", "5700", "CHINA", "1000", "10", "KG", "2025-03"],  # HS6 seafood: out of scope
        ["284690", "5700", "CHINA", "1000", "10", "KG", "2025-03"],  # a rare-earth aggregate
    ]
    path = tmp_path / "imports.json"
    path.write_text(json.dumps([header, *rows]))
    typed = _typed(path)
    assert typed.select(OUT_OF_SCOPE, REJECT_REASON).rows() == [
        ("not a rare-earth product line", None),
        ("not a rare-earth product line", None),
        (None, "GEN_VAL_MO is not a number"),
        (None, "unknown product code 2846999999 for 2025"),
        (None, None),
        ("not a rare-earth product line", None),
        (None, "I_COMMODITY 284690 is not a 10-digit code"),
    ]


def test_bad_export_rows_each_get_their_reason():
    assert _typed(F / "exports_bad_rows.json")[REJECT_REASON].to_list() == [
        "DF 3 is not 1 (domestic) or 2 (foreign)",
        "ALL_VAL_MO is missing",
        "QTY_1_MO is negative",
        "E_COMMODITY 85051100 is not a 10-digit code",
        None,
    ]


def test_partners_beyond_the_reference_table_land_by_schedule_c():
    # Every country of the published Schedule C list is in the seed (mapped by its ISO alpha-2
    # column): Estonia, Brazil, Viet Nam, South Africa, Chile and DR Congo land. Kosovo (4803) has
    # no ISO country of its own, so it stays an unknown partner; the world row is the sum.
    typed = _typed(F / "imports_2025-04_other_partners.json")
    assert typed.select("cty_code", "partner_iso3", REJECT_REASON).rows() == [
        ("-", "WLD", None),
        ("4470", "EST", None),
        ("3510", "BRA", None),
        ("5520", "VNM", None),
        ("7910", "ZAF", None),
        ("3370", "CHL", None),
        ("7660", "COD", None),
        ("4803", None, "unknown partner code 4803"),
    ]


def test_exports_are_looked_up_among_schedule_b_lines_not_hts():
    # 2846902015 is an HTS (import) line: on the exports endpoint it is not a Schedule B line, so it
    # is quarantined instead of being matched; 2846908000 is in both lists (seed classification).
    typed = _typed(F / "exports_2025-04_schedule_b.json")
    assert typed.select("commodity", "partner_iso3", REJECT_REASON).rows() == [
        ("2846908000", "BRA", None),
        ("2846908000", "ZAF", None),
        ("2846902015", "CHL", "unknown product code 2846902015 for 2025 (exports: Schedule B lines)"),
    ]
    # the same line on the imports endpoint is a known HTS line (only Kosovo's row is refused)
    imports = _typed(F / "imports_2025-04_other_partners.json")
    assert imports.filter(pl.col(REJECT_REASON).is_not_null())["cty_code"].to_list() == ["4803"]


def test_seed_schedule_c_codes_are_countries_and_never_groupings():
    countries = reference.seed("countries")
    groupings = reference.seed("census_groupings")
    codes = countries.filter(~pl.col("is_aggregate"))["census_code"].drop_nulls()
    assert codes.len() == 238
    assert codes.str.contains(r"^\d{4}$").all()
    assert codes.is_unique().all()
    # only the all-countries total '-' is in both: WLD in countries, kind 'world' in groupings
    assert set(countries["census_code"].drop_nulls()) & set(groupings["census_code"]) == {"-"}
    # the codes of the shared reference table agree with the published list
    assert dict(
        countries.filter(pl.col("iso3").is_in(["CHN", "JPN", "KOR", "DEU", "EST", "MEX"]))
        .select("iso3", "census_code")
        .rows()
    ) == {"CHN": "5700", "JPN": "5880", "KOR": "5800", "DEU": "4280", "EST": "4470", "MEX": "2010"}


def test_year_and_month_predicates_instead_of_time():
    typed = _typed(F / "imports_year_month_predicates.json")
    assert typed["period"].to_list() == ["2025-04", "2025-04"]  # MONTH "04" and "4"
    assert typed[REJECT_REASON].to_list() == [None, None]


def test_time_that_disagrees_with_year_month_is_quarantined():
    assert _typed(F / "imports_time_and_year_month.json")[REJECT_REASON].to_list() == [
        None,
        "time 2025-03 does not match YEAR/MONTH 2025-04",
    ]


def test_a_column_sent_twice_is_read_once_and_must_agree(tmp_path):
    raw = census.read(F / "imports_duplicate_column.json")
    assert raw.columns.count("I_COMMODITY") == 1
    assert raw["I_COMMODITY"].to_list() == ["2846908000", "2846908000"]
    table = json.loads((F / "imports_duplicate_column.json").read_text())
    table[2][-1] = "2846100000"
    bad = tmp_path / "conflict.json"
    bad.write_text(json.dumps(table))
    with pytest.raises(SourceFileError) as raised:
        census.read(bad)
    assert str(raised.value) == (
        "conflict.json: column I_COMMODITY appears twice and row 2 holds '2846908000' and '2846100000'"
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "invalid_key_page.json",
            "invalid_key_page.json: is an HTML page, not JSON: the Census API answers with an HTML page "
            "(HTTP 200) when the API key is missing or invalid; check the key and pull again",
        ),
        (
            "empty_204.json",
            "empty_204.json: file is empty: no data (the Census API answers 204 with an empty body for a "
            "comma list of commodities, or when nothing matches); pull one commodity wildcard per call",
        ),
        (
            "data_object.json",
            "data_object.json: is a JSON object, not the array of arrays the Census API returns "
            "(header row first); save the response body as is",
        ),
        (
            "ragged_row.json",
            "ragged_row.json: row 2 has 11 values but the header has 12; "
            "the file is damaged or not one API response",
        ),
        ("truncated.json", "truncated.json: invalid or truncated JSON at line 6 column 2"),
        (
            "naics_endpoint.json",
            "naics_endpoint.json: header has neither I_COMMODITY (imports/hs) nor E_COMMODITY "
            "(exports/hs); found GEN_VAL_MO, time, NAICS",
        ),
        (
            "api_error_message.json",
            "api_error_message.json: is a Census API error message, not data: "
            "\"error: unknown variable 'GEN_VAL_MOX'\"",
        ),
        ("missing_quantity.json", "missing_quantity.json: missing required column(s) GEN_QY1_MO; found"),
        (
            "no_month.json",
            "no_month.json: no month: the header has neither time nor YEAR and MONTH "
            "(pull with time=YYYY-MM)",
        ),
    ],
)
def test_unreadable_files_name_the_file_and_the_problem(name: str, message: str):
    with pytest.raises(SourceFileError) as raised:
        census.read(F / name)
    assert str(raised.value).startswith(message)


# --- sample -----------------------------------------------------------------------------------


def test_sample_magnet_imports_mirror_china_exports_a_month_earlier():
    typed = _typed(SAMPLES / "census" / "us_imports_2025.json")
    assert typed[REJECT_REASON].null_count() == typed.height
    comtrade = json.loads((SAMPLES / "comtrade" / "china_exports_monthly_2023_2025.json").read_text())
    china_fob = {
        (r["refYear"], r["refMonth"]): r["primaryValue"]
        for r in comtrade["data"]
        if r["cmdCode"] == "850511" and r["partnerCode"] == 842 and r["freqCode"] == "M"
    }
    magnets = typed.filter((pl.col("commodity") == "8505110070") & (pl.col("cty_code") == "5700"))
    assert magnets.height == 12
    for row in magnets.iter_rows(named=True):
        shipped = (row["year"] - 1, 12) if row["month"] == 1 else (row["year"], row["month"] - 1)
        assert 1.05 <= row["value_usd"] / china_fob[shipped] <= 1.10
    # world rows are the sum of the country rows of each line and month
    countries = typed.filter(~pl.col("is_world_partner") & ~pl.col("is_grouping"))
    sums = countries.group_by("commodity", "period").agg(pl.col("value_usd").sum().alias("countries"))
    world = typed.filter(pl.col("is_world_partner")).join(sums, on=["commodity", "period"])
    assert world.height == 132
    assert (world["value_usd"] == world["countries"]).all()
    compounds_t = typed.filter(pl.col("is_world_partner") & pl.col("commodity").str.starts_with("2846"))
    assert 7_500 < compounds_t["net_weight_kg"].sum() / 1000 < 8_500


# --- landing smoke test -----------------------------------------------------------------------


def test_sample_and_fixtures_land_with_the_gx_suite_passing(tmp_path):
    inbox, lake = tmp_path / "inbox", tmp_path / "lake"
    drop(
        inbox,
        "census",
        SAMPLES / "census" / "us_imports_2025.json",
        SAMPLES / "census" / "us_exports_2025.json",
        F / "imports_2025-03_traps.json",
        F / "exports_2025-03_df_split.json",
        F / "bad_rows.json",
        F / "invalid_key_page.json",
    )
    report = ingest_source(census.SPEC, inbox_dir=inbox, lake_dir=lake)
    by_file = {load.source_file: load for load in report.loads}
    summary = {
        name: (load.status, load.gx_success, load.rows_read, load.rows_landed, load.rows_quarantined)
        for name, load in by_file.items()
    }
    assert summary == {
        "census/us_imports_2025.json": ("landed", True, 759, 759, 0),
        "census/us_exports_2025.json": ("landed", True, 533, 533, 0),
        "census/imports_2025-03_traps.json": ("landed", True, 13, 13, 0),
        "census/exports_2025-03_df_split.json": ("landed", True, 7, 7, 0),
        "census/bad_rows.json": ("landed", True, 11, 1, 10),
        "census/invalid_key_page.json": ("rejected", None, 0, 0, 0),
    }
    assert by_file["census/us_imports_2025.json"].periods == [f"2025-{m:02d}" for m in range(1, 13)]
    landed = pl.read_parquet(lake / "raw" / "census" / "period=2025-03" / "*.parquet")
    assert set(landed.columns) == set(census.LANDING_SCHEMA) | {
        "_source_file",
        "_source_row",
        "_load_id",
        "_loaded_at",
    }
    quarantine = pl.read_parquet(
        lake / "quarantine" / "census" / f"{by_file['census/bad_rows.json'].load_id}.parquet"
    )
    assert quarantine.filter(pl.col("_source_row") == 1)["GEN_VAL_MO"].to_list() == ["(D)"]


@pytest.mark.parametrize(
    ("name", "row"),
    [
        ("exports_2025-03_df_split.json", 7),  # DEU, DF 1
        ("imports_2025-03_traps.json", 7),  # CHN: df_code is null on imports, still a key
    ],
)
def test_duplicate_record_keys_fail_the_suite(tmp_path, name: str, row: int):
    table = json.loads((F / name).read_text())
    table.append(list(table[row]))  # one row twice: two figures for one key
    inbox, lake = tmp_path / "inbox", tmp_path / "lake"
    (inbox / "census").mkdir(parents=True)
    (inbox / "census" / "duplicate.json").write_text(json.dumps(table))
    (load,) = ingest_source(census.SPEC, inbox_dir=inbox, lake_dir=lake).loads
    rows = len(table) - 1
    assert (load.status, load.rows_read, load.rows_landed, load.rows_quarantined) == (
        "rejected",
        rows,
        0,
        rows,
    )
    assert [f["expectation"] for f in load.gx_failed] == ["expect_compound_columns_to_be_unique"]
    assert load.gx_failed[0]["unexpected_count"] == 2


# --- pull -------------------------------------------------------------------------------------


class Replay:
    """An httpx transport that answers each request with the next recorded response."""

    def __init__(self, *responses: httpx.Response | Exception):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


GOOD = (API / "imports_2846_2025-03.json").read_bytes()
HTML = (API / "invalid_key.html").read_bytes()
# Census sends no Retry-After; these tests do, so lib.http's backoff does not slow them down.
NOW = {"Retry-After": "0"}


def test_pull_builds_the_documented_query_and_returns_the_body(tmp_path):
    replay = Replay(httpx.Response(200, content=GOOD))
    body = census_pull.call("import", "2025-03", KEY, client=replay.client())
    assert body == GOOD
    (request,) = replay.requests
    assert str(request.url).split("?")[0] == "https://api.census.gov/data/timeseries/intltrade/imports/hs"
    assert dict(request.url.params) == {
        "get": "I_COMMODITY,I_COMMODITY_SDESC,CTY_CODE,CTY_NAME,GEN_VAL_MO,CON_VAL_MO,GEN_CIF_MO,"
        "GEN_QY1_MO,CON_QY1_MO,UNIT_QY1",
        "I_COMMODITY": "2846*",
        "time": "2025-03",
        "SUMMARY_LVL": "DET",
        "COMM_LVL": "HS10",
        "key": KEY,
    }
    saved = tmp_path / "imports_2846_2025-03.json"
    saved.write_bytes(body)
    typed = _typed(saved)
    assert typed.select("cty_code", "value_usd").rows() == [
        ("-", 900_000.0),
        ("5700", 600_000.0),
        ("5880", 300_000.0),
    ]


def test_pull_exports_asks_for_e_commodity():
    replay = Replay(httpx.Response(200, content=b'[["E_COMMODITY"]]'))
    census_pull.call("export", "2025-03", KEY, commodity="8505*", client=replay.client())
    params = replay.requests[0].url.params
    assert replay.requests[0].url.path == "/data/timeseries/intltrade/exports/hs"
    assert (params["E_COMMODITY"], params["get"].split(",")[4]) == ("8505*", "ALL_VAL_MO")


def test_pull_204_is_no_data_and_hides_the_key():
    replay = Replay(httpx.Response(204))
    with pytest.raises(census_pull.CensusNoData) as raised:
        census_pull.call("import", "2025-03", KEY, client=replay.client())
    message = str(raised.value)
    assert "no data: Census returns 204 for a comma list of commodities; use one wildcard per call" in message
    assert "key=***" in message
    assert KEY not in message


def test_pull_html_with_status_200_is_a_key_error():
    replay = Replay(httpx.Response(200, content=HTML, headers={"content-type": "text/html"}))
    with pytest.raises(census_pull.CensusPullError) as raised:
        census_pull.call("import", "2025-03", KEY, client=replay.client())
    assert str(raised.value).endswith(": the response is an HTML page: the API key is missing or invalid")
    assert KEY not in str(raised.value)


def test_pull_retries_429_then_succeeds_without_logging_the_key(caplog):
    replay = Replay(
        httpx.Response(429, headers=NOW, text="Too Many Requests"), httpx.Response(200, content=GOOD)
    )
    with caplog.at_level(logging.INFO, logger=census_pull.__name__):
        assert census_pull.call("import", "2025-03", KEY, client=replay.client()) == GOOD
    assert len(replay.requests) == 2
    assert "key=***" in caplog.text
    assert KEY not in caplog.text


def test_pull_gives_up_after_five_attempts_without_showing_the_key():
    replay = Replay(*[httpx.Response(503, headers=NOW) for _ in range(5)])
    with pytest.raises(PullError) as raised:
        census_pull.call("import", "2025-03", KEY, client=replay.client())
    assert len(replay.requests) == 5
    assert "still answered HTTP 503 after 5 attempts" in str(raised.value)
    assert raised.value.__cause__ is None
    assert KEY not in str(raised.value)


def test_pull_retries_a_timeout():
    replay = Replay(httpx.ReadTimeout("timed out"), httpx.Response(200, content=GOOD))
    assert census_pull.call("import", "2025-03", KEY, client=replay.client()) == GOOD
    assert len(replay.requests) == 2


def test_pull_client_error_is_not_retried_and_its_body_is_redacted():
    replay = Replay(httpx.Response(400, text=f"error: unknown variable 'FOO' in ...&key={KEY}"))
    with pytest.raises(census_pull.CensusPullError) as raised:
        census_pull.call("import", "2025-03", KEY, client=replay.client())
    assert len(replay.requests) == 1
    assert "HTTP 400: error: unknown variable 'FOO' in ...&key=***" in str(raised.value)
    assert KEY not in str(raised.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"commodity": "2846*,8505*"}, "no data: Census returns 204 for a comma list of commodities"),
        ({"flow": "imports"}, "flow must be 'import' or 'export', not 'imports'"),
        ({"month": "2025-3"}, "month must be YYYY-MM, not '2025-3'"),
        ({"api_key": ""}, "api_key is empty"),
    ],
)
def test_pull_refuses_bad_arguments_before_calling(kwargs: dict, message: str):
    arguments = {"flow": "import", "month": "2025-03", "api_key": KEY} | kwargs
    replay = Replay()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("*", r"\*")):
        census_pull.call(client=replay.client(), **arguments)
    assert replay.requests == []


def test_pull_month_puts_every_wildcard_of_a_month_in_one_file(tmp_path):
    replay = Replay(
        httpx.Response(204),  # 2805*: no trade that month
        httpx.Response(200, content=GOOD),
        httpx.Response(200, content=(API / "imports_8505_2025-03.json").read_bytes()),
    )
    body = census_pull.pull(
        census_pull.MonthRequest("import", "2025-03"), KEY, client=replay.client()
    ).payload
    assert [r.url.params["I_COMMODITY"] for r in replay.requests] == ["2805*", "2846*", "8505*"]
    saved = tmp_path / "imports_2025-03.json"
    saved.write_bytes(body)
    typed = _typed(saved)
    assert typed.select("commodity", "cty_code").rows() == [
        ("2846908000", "-"),
        ("2846908000", "5700"),
        ("2846908000", "5880"),
        ("8505110070", "-"),
        ("8505110070", "5700"),
    ]
    assert typed[REJECT_REASON].null_count() == 5


def test_request_record_has_the_query_and_never_the_key():
    assert census_pull.MonthRequest("export", "2025-03").record() == {
        "endpoint": "https://api.census.gov/data/timeseries/intltrade/exports/hs",
        "params": {
            "get": "E_COMMODITY,E_COMMODITY_SDESC,CTY_CODE,CTY_NAME,ALL_VAL_MO,QTY_1_MO,UNIT_QY1",
            "time": "2025-03",
            "SUMMARY_LVL": "DET",
            "COMM_LVL": "HS10",
        },
        "commodities": ["2805*", "2846*", "8505*"],
    }


def test_a_pulled_month_is_saved_and_ingested_like_a_dropped_file(workspace):
    from dagster_project.ingest.pulls import save_pull

    replay = Replay(
        httpx.Response(200, content=GOOD.replace(b"2846908000", b"2805300020")),
        httpx.Response(200, content=GOOD),
        httpx.Response(200, content=(API / "imports_8505_2025-03.json").read_bytes()),
    )
    payload, record = census_pull.pull(
        census_pull.MonthRequest("import", "2025-03"), KEY, client=replay.client()
    )
    assert record == census_pull.MonthRequest("import", "2025-03").record()
    path = save_pull("census", "2025-03", payload, record)
    report = ingest_source(
        census.SPEC,
        inbox_dir=workspace["inbox"],
        lake_dir=workspace["lake"],
        pulled_dir=workspace["data"] / "pulled",
    )
    (load,) = report.loads
    assert (load.source_file.endswith(path.name), load.status, load.rows_landed) == (True, "landed", 8)
    assert json.loads(load.request)["params"]["time"] == "2025-03"
    assert KEY not in path.read_text() and KEY not in load.request
