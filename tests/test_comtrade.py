"""Comtrade parser: real-format fixtures, one trap each (see fixtures/comtrade/README.md)."""

import json

import polars as pl
import pytest
from conftest import FIXTURES

from dagster_project.sources import comtrade
from dagster_project.sources.contract import OUT_OF_SCOPE, REJECT_REASON, SourceFileError

F = FIXTURES / "comtrade"


def _typed(name: str) -> pl.DataFrame:
    return comtrade.normalise(comtrade.read(F / name))


def test_world_area_and_breakdowns_are_flagged_not_dropped():
    typed = _typed("us_imports_2023_traps.json")
    assert typed.height == 10
    assert typed[REJECT_REASON].null_count() == 10
    world = typed.filter(pl.col("is_world_partner"))
    assert world["partner_iso3"].to_list() == ["WLD"]
    assert world["primary_value_usd"].to_list() == [1005000.0]
    area = typed.filter(pl.col("is_area_partner"))
    assert area["partner_code"].to_list() == [899]
    assert area["partner_iso3"].to_list() == [None]
    slices = typed.filter(pl.col("is_breakdown")).sort("primary_value_usd")
    assert slices["primary_value_usd"].to_list() == [50000.0, 70000.0, 200000.0]
    totals = typed.filter(~pl.col("is_breakdown") & ~pl.col("is_world_partner") & ~pl.col("is_area_partner"))
    assert totals.filter(pl.col("cmd_code") == "284690")["primary_value_usd"].sum() == 1_000_000


def test_annual_period_and_cif_basis():
    row = _typed("us_imports_2023_traps.json").row(0, named=True)
    assert (row["freq_code"], row["period"], str(row["period_start"]), row["ref_month"]) == (
        "A",
        "2023",
        "2023-01-01",
        None,
    )
    assert (row["flow"], row["value_basis"], row["reporter_iso3"], row["partner_iso3"]) == (
        "import",
        "CIF",
        "USA",
        "CHN",
    )


def test_zero_mass_on_valued_shipment_is_not_declared_and_counts_are_not_kg():
    typed = _typed("us_imports_2023_traps.json")
    germany = typed.filter(pl.col("partner_iso3") == "DEU").row(0, named=True)
    assert germany["net_weight_kg"] is None
    magnets = typed.filter(pl.col("cmd_code") == "850511").row(0, named=True)
    assert (magnets["quantity"], magnets["qty_unit_abbr"], magnets["net_weight_kg"]) == (1200.0, "u", None)


def test_monthly_annual_and_reexport_rows():
    typed = _typed("china_exports_2024_monthly_and_annual.json")
    monthly = typed.filter(pl.col("freq_code") == "M").sort("ref_month")
    assert monthly["period"].to_list() == ["2024-01", "2024-02", "2024-03"]
    assert [str(d) for d in monthly["period_start"]] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert set(typed["flow"]) == {"export", "re_export"}
    assert typed.filter(pl.col("flow") == "re_export")["value_basis"].to_list() == ["FOB"]


def test_bad_rows_each_get_their_reason():
    typed = _typed("bad_rows.json")
    reasons = typed[REJECT_REASON].to_list()
    assert reasons == [
        "primaryValue is not a number",
        "unknown partner code 999",
        None,  # HS 999999 is under no rare-earth heading: out of scope, not quarantined
        "primaryValue is negative",
        "refMonth does not match freqCode (52 for A, 1-12 for M)",
        "unsupported flowCode XIP",
        None,
    ]
    assert typed[OUT_OF_SCOPE].to_list() == [None, None, "not a rare-earth HS code", None, None, None, None]


def test_csv_with_bom_and_python_booleans_reads_like_json():
    typed = _typed("japan_imports_bom.csv")
    assert typed["reporter_iso3"].unique().to_list() == ["JPN"]
    assert typed.filter(pl.col("partner_iso3") == "CHN")["primary_value_usd"].to_list() == [800000.0]
    assert typed[REJECT_REASON].null_count() == 3


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("error_page.json", "error_page.json: is an HTML page, not JSON (an API error page saved as .json?)"),
        ("truncated.json", "truncated.json: invalid or truncated JSON at line"),
        ("missing_column.csv", "missing_column.csv: missing required column(s) primaryValue"),
    ],
)
def test_unreadable_files_name_the_file_and_the_problem(name: str, message: str):
    with pytest.raises(SourceFileError) as raised:
        comtrade.read(F / name)
    assert str(raised.value).startswith(message)


def test_api_error_payload_is_an_error_not_empty_data(tmp_path):
    path = tmp_path / "quota.json"
    path.write_text('{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 5 seconds."}')
    with pytest.raises(SourceFileError, match=r'no "data" list \(the API said: Rate limit is exceeded'):
        comtrade.read(path)


def test_total_and_non_rare_earth_codes_are_out_of_scope_aggregates_of_rare_earths_are_not(tmp_path):
    record = {
        "freqCode": "A",
        "refYear": 2023,
        "refMonth": 52,
        "reporterCode": 842,
        "flowCode": "M",
        "partnerCode": 156,
        "primaryValue": 1000,
    }
    codes = ["TOTAL", "120190", "1201", "2846", "28", "284690", "284699"]
    rows = [dict(record, cmdCode=code) for code in codes]
    rows.append(dict(record, cmdCode="120190", primaryValue="12,5"))  # broken as well as out of scope
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"data": rows}))
    typed = comtrade.normalise(comtrade.read(path))
    assert typed.select("cmd_code", OUT_OF_SCOPE, REJECT_REASON).rows() == [
        ("TOTAL", "cmdCode TOTAL (all commodities)", None),
        ("120190", "not a rare-earth HS code", None),
        ("1201", "not a rare-earth HS code", None),
        ("2846", None, "cmdCode 2846 is not an HS6 code"),
        ("28", None, "cmdCode 28 is not an HS6 code"),
        ("284690", None, None),
        ("284699", None, "unknown product code 284699 for 2023"),
        ("120190", None, "primaryValue is not a number"),
    ]
