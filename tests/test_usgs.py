"""USGS MCS data-release parser: real-format fixtures, one trap each (see fixtures/usgs/README.md)."""

import polars as pl
import pytest
from conftest import FIXTURES, SAMPLES, drop

from dagster_project.ingest.landing import ingest_source
from dagster_project.sources import usgs
from dagster_project.sources.contract import REJECT_REASON, SourceFileError

F = FIXTURES / "usgs"
SAMPLE = SAMPLES / "usgs" / "mcs2025_rare_earths.csv"
VALUE_COLUMNS = ["value_text", "value_flag", "value", "value_low", "value_high"]


def _typed(path) -> pl.DataFrame:
    return usgs.normalise(usgs.read(path))


def test_every_value_spelling_gets_its_flag_and_never_a_made_up_zero():
    typed = _typed(F / "value_traps_bom.csv")
    assert typed[REJECT_REASON].null_count() == typed.height == 18
    rows = typed.sort("_source_row").select(VALUE_COLUMNS).rows()
    assert rows[:15] == [
        ("W", "withheld", None, None, None),
        ("e1,200", "estimated", 1200.0, None, None),
        ("1,200 E", "estimated", 1200.0, None, None),
        ("E", "net_exporter", None, None, None),
        (">95", "greater_than", None, 95.0, None),
        ("—", "zero", 0.0, None, None),
        ("--", "zero", 0.0, None, None),
        ("-", "zero", 0.0, None, None),
        ("NA", "not_available", None, None, None),
        ("<1", "less_than", None, None, 1.0),
        ("1–2", "range", None, 1.0, 2.0),
        ("10-20", "range", None, 10.0, 20.0),
        ("2,051", "reported", 2051.0, None, None),
        ("134", "reported", 134.0, None, None),
        (None, "not_available", None, None, None),
    ]


def test_bom_is_removed_and_text_is_read_as_utf8():
    typed = _typed(F / "value_traps_bom.csv")
    first = typed.row(0, named=True)
    assert (first["mcs_chapter"], first["section"], first["commodity"]) == (
        "RARE EARTHS",
        "Salient Statistics—United States",
        "Rare earths",
    )
    assert first["notes"] == "Withheld to avoid disclosing company proprietary data."


def test_year_spans_and_estimated_years():
    typed = _typed(F / "value_traps_bom.csv").sort("_source_row")
    span = typed.row(15, named=True)
    assert (span["country"], span["year"], span["year_start"], span["period"], span["value"]) == (
        "China",
        2024,
        2021,
        "2024",
        70.0,
    )
    assert span["other_notes"] == "By value."
    estimated_year = typed.row(16, named=True)
    assert (estimated_year["year"], estimated_year["value_flag"], estimated_year["value"]) == (
        2025,
        "estimated",
        270000.0,
    )


def test_other_commodities_are_kept_and_flagged():
    typed = _typed(F / "value_traps_bom.csv")
    assert typed.filter(~pl.col("is_rare_earth"))["commodity"].to_list() == ["Gallium"]
    assert typed.filter(pl.col("is_rare_earth")).height == 17


def test_cp1252_release_file_decodes_without_mojibake():
    typed = _typed(F / "release_cp1252.csv")
    assert typed[REJECT_REASON].null_count() == 4
    assert typed["country"].to_list() == ["Türkiye", "Burma", "United States", "United States"]
    assert typed["section"].to_list()[2] == "Salient Statistics—United States"
    assert typed.select(VALUE_COLUMNS).rows() == [
        ("NA", "not_available", None, None, None),
        ("31,000 E", "estimated", 31000.0, None, None),
        ("2–3", "range", None, 2.0, 3.0),
        ("—", "zero", 0.0, None, None),
    ]
    assert typed["other_notes"].to_list()[2] == "Price quoted “FOB China”."


def test_bad_rows_each_get_their_reason_and_extra_columns_are_optional():
    typed = _typed(F / "bad_rows.csv")
    assert typed[REJECT_REASON].to_list() == [
        "Year '20x4' is not a 4-digit year",
        "Year 1850 is out of range (1900 to next year)",
        "unparseable value 'abc'",
        "unparseable value 'Large'",
        "range '20–10' has its low above its high",
        "Commodity is missing",
        None,
    ]
    assert typed["other_notes"].null_count() == 7


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "double_encoded.csv",
            "double_encoded.csv: text looks double-encoded (mojibake 'â€' on line 2); "
            "export the file again from the original release",
        ),
        (
            "not_text.csv",
            "not_text.csv: not valid utf-8 or cp1252 text (byte 180: character maps to <undefined>); "
            "re-save the file as UTF-8",
        ),
        (
            "unknown_layout.csv",
            "unknown_layout.csv: missing required column(s) MCS chapter, Section, Country, Statistics, "
            "Statistics_detail, Unit, Notes; found Commodity, Year, Value; usgs takes the long MCS "
            "data-release CSV (MCS chapter, Section, Commodity, …) or a salient, world, table 5, figure 2 "
            "or figure 3 CSV of a per-commodity release",
        ),
    ],
)
def test_unreadable_files_name_the_file_and_the_problem(name: str, message: str):
    with pytest.raises(SourceFileError) as raised:
        usgs.read(F / name)
    assert str(raised.value) == message


def test_wide_salient_fixture_lands_as_long_rows_with_its_edition():
    typed = _typed(F / "salient_wide.csv")
    assert typed.select(
        "source_field", "statistic", "statistic_detail", "unit", "year", "value", "value_flag", "mcs_edition"
    ).rows() == [
        ("USprod_Mine_t", "Production", "Production: Mine", "metric tons", 2024, 45000.0, "reported", 2025),
        (
            "Imports_Compounds_t",
            "Imports for consumption",
            "Imports for consumption: Compounds",
            "metric tons",
            2024,
            8000.0,
            "reported",
            2025,
        ),
        (
            "Imports_Metals_t",
            "Imports for consumption",
            "Imports for consumption: Metals",
            "metric tons",
            2024,
            90.0,
            "reported",
            2025,
        ),
        (
            "NIR_pct",
            "Net import reliance",
            "Net import reliance",
            "percent",
            2024,
            None,
            "net_exporter",
            2025,
        ),
    ]
    assert typed[REJECT_REASON].null_count() == typed.height
    assert typed["_out_of_scope"].null_count() == typed.height


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "mcs2025.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(SourceFileError, match=r"unsupported file type '\.xlsx'; usgs takes the MCS"):
        usgs.read(path)


def test_sample_holds_the_published_mcs_2025_figures():
    typed = _typed(SAMPLE)
    assert typed.height == 116
    assert typed[REJECT_REASON].null_count() == 116

    def series(detail: str, country: str = "United States") -> list[float | None]:
        rows = typed.filter((pl.col("statistic_detail") == detail) & (pl.col("country") == country))
        return rows.sort("year")["value"].to_list()

    assert series("Imports for consumption: Compounds, REO equivalent") == [6510, 7690, 10700, 8920, 8000]
    assert series("Imports for consumption: Metals, REO equivalent") == [363, 580, 487, 476, 90]
    assert series("Price, average: Dysprosium oxide, minimum 99.5% purity") == [261, 410, 382, 330, 260]
    assert series("Price, average: Terbium oxide, minimum 99.99% purity") == [670, 1346, 2051, 1298, 810]
    assert series("Price, average: Neodymium oxide, minimum 99.5% purity") == [49, 98, 134, 78, 56]
    assert series("Price, average: Europium oxide, minimum 99.99% purity") == [31, 31, 30, 27, 27]
    sources = typed.filter(pl.col("statistic") == "Import sources")
    assert dict(sources.select("country", "value").rows()) == {
        "China": 70.0,
        "Malaysia": 13.0,
        "Japan": 6.0,
        "Estonia": 5.0,
        "Other": 6.0,
    }
    assert sources.select("year_start", "year").unique().rows() == [(2020, 2023)]
    reliance = (pl.col("statistic") == "Net import reliance") & pl.col("is_rare_earth")
    assert typed.filter(reliance)["value_flag"].to_list() == ["net_exporter"] * 5
    assert typed.filter(reliance)["value"].null_count() == 5
    compounds = typed.filter(pl.col("statistic_detail") == "Production: Rare-earth compounds and metals")
    assert compounds.sort("year").select("value_text", "value").rows() == [
        ("—", 0.0),
        ("—", 0.0),
        ("—", 0.0),
        ("W", None),
        ("W", None),
    ]
    world = (pl.col("country") == "World total (rounded)") & pl.col("is_rare_earth")
    assert typed.filter(world).sort("statistic", "year").select(*VALUE_COLUMNS[:3], "value_low").rows() == [
        ("376,000", "reported", 376000.0, None),
        ("390,000 E", "estimated", 390000.0, None),
        (">90,000,000", "greater_than", None, 90000000.0),
    ]
    assert typed.group_by("is_rare_earth").len().sort("is_rare_earth").rows() == [(False, 28), (True, 88)]


def test_lands_sample_and_fixtures_with_the_gx_suite_passing(workspace):
    drop(
        workspace["inbox"],
        "usgs",
        SAMPLE,
        F / "value_traps_bom.csv",
        F / "release_cp1252.csv",
        F / "bad_rows.csv",
    )
    report = ingest_source(usgs.SPEC, inbox_dir=workspace["inbox"], lake_dir=workspace["lake"])
    by_file = {load.source_file: load for load in report.loads}
    counts = {
        name: (load.status, load.gx_success, load.rows_read, load.rows_landed, load.rows_quarantined)
        for name, load in by_file.items()
    }
    assert counts == {
        "usgs/mcs2025_rare_earths.csv": ("landed", True, 116, 116, 0),
        "usgs/value_traps_bom.csv": ("landed", True, 18, 18, 0),
        "usgs/release_cp1252.csv": ("landed", True, 4, 4, 0),
        "usgs/bad_rows.csv": ("landed", True, 7, 1, 6),
    }
    assert by_file["usgs/mcs2025_rare_earths.csv"].periods == ["2020", "2021", "2022", "2023", "2024"]
    landed = pl.read_parquet(workspace["lake"] / "raw" / "usgs" / "**" / "*.parquet")
    assert landed.height == 139
    withheld = landed.filter(pl.col("value_flag") == "withheld")
    assert withheld["value"].null_count() == withheld.height == 8
    quarantine = pl.read_parquet(
        workspace["lake"] / "quarantine" / "usgs" / f"{by_file['usgs/bad_rows.csv'].load_id}.parquet"
    )
    assert quarantine.sort("_source_row").select("Value", "_reject_reason").rows()[2] == (
        "abc",
        "unparseable value 'abc'",
    )


def test_gx_suite_rejects_a_file_with_two_figures_for_one_key(workspace, tmp_path):
    lines = (F / "release_cp1252.csv").read_bytes().split(b"\r\n")
    bad = tmp_path / "duplicate_keys.csv"
    bad.write_bytes(b"\r\n".join([*lines[:3], lines[2].replace(b"31,000 E", b"32,000 E"), *lines[3:]]))
    drop(workspace["inbox"], "usgs", bad)
    (load,) = ingest_source(usgs.SPEC, inbox_dir=workspace["inbox"], lake_dir=workspace["lake"]).loads
    assert (load.status, load.rows_read, load.rows_landed, load.rows_quarantined) == ("rejected", 5, 0, 5)
    assert [f["expectation"] for f in load.gx_failed] == ["expect_compound_columns_to_be_unique"]


# A newer edition replacing the same statistic year: test_revision_keys.py, by what
# int_usgs__current does with two editions' rows (the constant that stood here proved nothing).


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        (
            "mcs2024-raree_salient.csv",
            "DataSource,Commodity,Year,Imports_Compounds_t,,\nMCS2024,Rare Earths,2023,8800,,17\n",
            "an unnamed column (position 6) holds values; name it",
        ),
        (
            "mcs2024-raree_salient.csv",
            "DataSource,Commodity,Year,Imports_Compounds_tons\nMCS2024,Rare Earths,2023,8800\n",
            "column 'Imports_Compounds_tons' does not end in a unit this parser knows (_t, _kt, _pct, "
            "_dkg, _dg, _num, _kg); its values cannot be landed without one",
        ),
        (
            "mcs2024-raree_world.csv",
            "Source,Country,Type,Prod_t_2023,Capacity_t\nMCS2024,China,x,240000,300000\n",
            "column(s) Capacity_t are not part of this USGS layout; their values would be lost",
        ),
        (
            "world.csv",
            'Source,Country,Type,Prod_t_2023\nMCS2024,China,"Mine production, metric tons",240000\n',
            "cannot tell the commodity of this world table: the file name has no MCS code "
            "(mcs2024-raree_world.csv) and Type does not name it",
        ),
    ],
)
def test_a_wide_file_that_would_lose_a_value_is_refused(tmp_path, name: str, text: str, problem: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceFileError) as raised:
        usgs.read(path)
    assert str(raised.value) == f"{name}: {problem}"


def test_wide_blank_rows_and_empty_trailing_columns_are_skipped_and_an_empty_source_takes_the_name(tmp_path):
    path = tmp_path / "mcs2024-silve_world.csv"
    path.write_bytes(
        b"\xef\xbb\xbfSource,Country,Type,Prod_kt_est_2023,Reserves_kt,Reserves_notes,,\r\n"
        b',Peru,"Silver, mine production","3,100",98,,,\r\n'
        b",,,,,,,\r\n"
    )
    typed = _typed(path)
    assert typed.select(
        "country", "statistic", "unit", "year", "value", "value_flag", "mcs_edition"
    ).rows() == [
        ("Peru", "Production", "thousand metric tons", 2023, 3100.0, "estimated", 2024),
        ("Peru", "Reserves", "thousand metric tons", 2023, 98.0, "reported", 2024),
    ]
    assert (
        typed["_out_of_scope"].to_list()
        == ["commodity other than rare earths, yttrium or scandium (World Mine Production and Reserves)"] * 2
    )
