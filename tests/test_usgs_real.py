"""Every real USGS file in ../shared/real/usgs/ (PROVENANCE.md §4): it lands, or is refused with its
exact reason, and figures read from it equal the figures in the file, checked by hand. Skipped
when that folder is absent (the files are never copied into the repository)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import REAL_DIR, REPO, drop

from dagster_project.ingest.landing import ingest_source
from dagster_project.sources import usgs
from dagster_project.sources.contract import OUT_OF_SCOPE, REJECT_REASON, SourceFileError

REAL = REAL_DIR / "usgs"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} is absent (real agency files)")

# file → (rows read = statistic cells, rows out of scope). Nothing is quarantined in any of them.
LANDS = {
    "rare_earths_mcs2022-raree_salient.csv": (95, 0),  # 5 years × 19 statistics
    "rare_earths_mcs2022-raree_world.csv": (34, 0),  # 17 countries/total × 2 years
    "mcs2023-raree_salient.csv": (95, 0),
    "mcs2023-raree_world.csv": (51, 0),  # 17 × (2 years + reserves)
    "mcs2024-raree_salient.csv": (95, 0),
    "mcs2024-raree_world.csv": (48, 0),  # 16 × 3; the 22 blank rows and 36 empty columns skipped
    "mcs2024-yttri_salient.csv": (35, 0),  # 5 × 7; the trailing comma's empty column skipped
    "mcs2024-scand_salient.csv": (50, 0),  # 5 × 10
    "MCS2024_T5_Critical_Minerals_Salient.csv": (248, 224),  # 31 minerals × 8; 28 not REE/Y/Sc
    "MCS2024_Fig2_Net_Import_Reliance.csv": (291, 276),  # 63 NIR + 228 listed sources; 15 in scope
    "MCS2024_Fig3_Major_Import_Sources.csv": (43, 43),  # a count over all commodities
}
# What a data release ships beside its CSVs: not data, so neither loaded nor refused.
COMPANIONS = ["MCS_2024_Data_Release_Revision_File_2024-03-06.txt", "mcs2024-raree_meta.xml"]


def _typed(name: str) -> pl.DataFrame:
    return usgs.normalise(usgs.read(REAL / name))


def _one(frame: pl.DataFrame, **where) -> dict:
    rows = frame.filter(*(pl.col(k) == v for k, v in where.items()))
    assert rows.height == 1, (where, rows)
    return rows.row(0, named=True)


def test_the_real_folder_holds_exactly_the_files_tested():
    assert {p.name for p in REAL.iterdir()} == set(LANDS) | set(COMPANIONS)


@pytest.mark.parametrize("name", sorted(LANDS))
def test_each_real_file_lands_whole_with_the_gx_suite_passing(workspace, name):
    drop(workspace["inbox"], "usgs", REAL / name)
    (load,) = ingest_source(usgs.SPEC, inbox_dir=workspace["inbox"], lake_dir=workspace["lake"]).loads
    rows, out_of_scope = LANDS[name]
    assert (
        load.status,
        load.gx_success,
        load.rows_read,
        load.rows_landed,
        load.rows_quarantined,
        load.rows_out_of_scope,
    ) == ("landed", True, rows, rows - out_of_scope, 0, out_of_scope), load.message
    typed = _typed(name)
    assert typed[OUT_OF_SCOPE].drop_nulls().len() == out_of_scope
    # Out of scope is never in scope's place: every rare-earth row is in scope and vice versa.
    assert typed.filter(pl.col(OUT_OF_SCOPE).is_null())["is_rare_earth"].all()
    assert typed[REJECT_REASON].null_count() == typed.height


def test_companion_files_are_ignored_not_refused(workspace):
    drop(workspace["inbox"], "usgs", *(REAL / name for name in COMPANIONS))
    drop(workspace["inbox"], "usgs", REAL / "mcs2024-raree_salient.csv")
    said: list[str] = []
    report = ingest_source(
        usgs.SPEC, inbox_dir=workspace["inbox"], lake_dir=workspace["lake"], progress=said.append
    )
    assert sorted(report.ignored) == sorted(f"usgs/{name}" for name in COMPANIONS)
    assert [load.status for load in report.loads] == ["landed"]
    assert sum("ignored (a companion file, not data)" in line for line in said) == 2
    # Read directly (not through the inbox), they are still not data.
    with pytest.raises(SourceFileError, match="unsupported file type '.xml'"):
        usgs.read(REAL / "mcs2024-raree_meta.xml")


def test_salient_mcs2024_imports_prices_and_net_import_reliance():
    typed = _typed("mcs2024-raree_salient.csv")
    imports = _one(typed, source_field="Imports_Compounds_t", year=2023)
    assert (imports["value"], imports["unit"], imports["mcs_edition"], imports["country"]) == (
        8800.0,
        "metric tons",
        2024,
        "United States",
    )
    assert imports["statistic_detail"] == "Imports for consumption: Compounds"
    assert _one(typed, source_field="Price_Dy2O3_dkg", year=2023)["value"] == 323.0
    assert _one(typed, source_field="Price_TbO2_dkg", year=2022)["value"] == 2051.0
    assert _one(typed, source_field="Price_Nd2O3_dkg", year=2022)["unit"] == "dollars per kilogram"
    # "7,900" and "10,200" are quoted with a separator; 8800 beside them is not.
    consumption = typed.filter(pl.col("source_field") == "Consump_Compounds-Metals_t").sort("year")
    assert consumption.select("value_text", "value").rows() == [
        ("11800", 11800.0),
        ("6490", 6490.0),
        ("7,900", 7900.0),
        ("10,200", 10200.0),
        ("8800", 8800.0),
    ]
    # NIR_*_t is a percent whatever the column says; >95 is a bound, E a net exporter.
    nir = _one(typed, source_field="NIR_Compounds-Metals_t", year=2023)
    assert (nir["unit"], nir["value"], nir["value_low"], nir["value_flag"]) == (
        "percent",
        None,
        95.0,
        "greater_than",
    )
    assert "read as percent" in nir["other_notes"]
    concentrate = _one(typed, source_field="NIR_Concentrate_t", year=2023)
    assert (concentrate["value"], concentrate["value_flag"]) == (None, "net_exporter")
    assert _one(typed, source_field="Employment_m", year=2023)["unit"] == "number of employees"


def test_salient_vintages_name_the_same_statistic_alike():
    """MCS2023 writes NIR_Compounds-Metals_pct and Employment_num, MCS2024 NIR_…_t and
    Employment_m: the statistic and detail are the same, so the later edition replaces."""
    key = ["section", "commodity", "statistic", "statistic_detail", "country"]
    older = _typed("mcs2023-raree_salient.csv").select(key).unique()
    newer = _typed("mcs2024-raree_salient.csv").select(key).unique()
    assert older.sort(key).equals(newer.sort(key))
    assert older.height == 19


def test_salient_mcs2022_xx_and_bound():
    typed = _typed("rare_earths_mcs2022-raree_salient.csv")
    xx = _one(typed, source_field="NIR_Concentrate_t", year=2017)
    assert (xx["value_text"], xx["value"], xx["value_flag"]) == ("XX", None, "not_available")
    assert _one(typed, source_field="NIR_Compounds-Metals_t", year=2021)["value_low"] == 90.0
    assert _one(typed, source_field="Imports_Compounds_t", year=2017)["value"] == 11000.0


def test_yttrium_and_scandium_salient():
    yttrium = _typed("mcs2024-yttri_salient.csv")
    assert _one(yttrium, source_field="Imports_All_t", year=2023)["value"] == 250.0
    assert _one(yttrium, source_field="Price_Y2O3_dkg", year=2023)["value"] == 8.0
    assert _one(yttrium, source_field="NIR_pct", year=2023)["value"] == 100.0
    assert set(yttrium["commodity"]) == {"Yttrium"}
    assert yttrium["is_rare_earth"].all()
    scandium = _typed("mcs2024-scand_salient.csv")
    oxide = _one(scandium, source_field="Price_Cmpds_Oxide_dg", year=2022)
    assert (oxide["value"], oxide["unit"]) == (2.0, "dollars per gram")
    assert _one(scandium, source_field="Price_Cmpds_Oxide_dg", year=2023)["value_flag"] == "not_available"
    assert _one(scandium, source_field="Price_ScAl_1000kglot_dkg", year=2022)["value"] == 98.0


def test_world_mcs2024_total_is_kept_and_flagged_never_a_country():
    typed = _typed("mcs2024-raree_world.csv")
    total = _one(typed, country="World total (rounded)", statistic="Production", year=2023)
    assert (total["value"], total["is_total"], total["value_flag"]) == (350000.0, True, "estimated")
    assert _one(typed, country="World total (rounded)", statistic="Reserves")["value"] == 110_000_000.0
    china = _one(typed, country="China", statistic="Production", year=2023)
    assert (china["value"], china["is_total"], china["mcs_edition"]) == (240000.0, False, 2024)
    assert china["notes"] == "Production quota; does not include undocumented production."
    countries = typed.filter(
        ~pl.col("is_total") & (pl.col("statistic") == "Production") & (pl.col("year") == 2023)
    )
    assert countries.height == 15
    # The rounded total is not the sum of the countries (the release rounds and omits some).
    assert countries["value"].sum() == 353_320.0 != total["value"]
    assert typed.filter(pl.col("is_total")).height == 3
    # NBSP inside the notes ("United\u00a0States") reads as a space.
    assert "United States were revised" in _one(typed, country="Thailand", statistic="Reserves")["notes"]
    assert _one(typed, country="Burma", statistic="Reserves")["value_flag"] == "not_available"


def test_world_vintages_years_and_estimates():
    mcs2023 = _typed("mcs2023-raree_world.csv")
    assert (
        _one(mcs2023, country="United States", year=2021, statistic="Production")["value_flag"] == "reported"
    )
    assert (
        _one(mcs2023, country="United States", year=2022, statistic="Production")["value_flag"] == "estimated"
    )
    assert _one(mcs2023, country="World total (rounded)", statistic="Reserves")["value"] == 130_000_000.0
    mcs2022 = _typed("rare_earths_mcs2022-raree_world.csv")
    est = _one(mcs2022, country="World total (rounded)", year=2021)
    assert (est["source_field"], est["value"], est["value_flag"]) == (
        "Prod_t_Est_2021",
        280000.0,
        "estimated",
    )
    # The 2022 Type text has a trailing space: trimmed.
    assert set(mcs2022["other_notes"]) == {
        "Mine production, metric tons of rare-earth-oxide (REO) equivalent"
    }
    assert set(mcs2022["commodity"]) == {"Rare earths"}


def test_table5_rare_earths_row_and_out_of_scope_minerals():
    typed = _typed("MCS2024_T5_Critical_Minerals_Salient.csv")
    ree = typed.filter(pl.col("commodity") == "Rare earths (compounds and metals)")
    assert ree[OUT_OF_SCOPE].null_count() == ree.height == 8
    nir = _one(ree, statistic="Net import reliance")
    assert (nir["value_low"], nir["value_flag"], nir["year"], nir["unit"]) == (
        95.0,
        "greater_than",
        2023,
        "percent",
    )
    assert _one(ree, statistic="Consumption, apparent")["value"] == 8800.0
    share = _one(ree, statistic="Share of world production")
    assert (share["country"], share["value"], share["unit"]) == ("China", 69.0, "percent")
    source = _one(ree, statistic="Import sources")
    assert (source["country"], source["value"], source["year_start"], source["year"]) == (
        "China",
        1.0,
        2019,
        2022,
    )
    world = _one(ree, statistic="Production, world")
    assert (world["value"], world["is_total"]) == (350000.0, True)
    withheld = _one(typed, commodity="Aluminum (bauxite)", statistic_detail="Production: Primary")
    assert (withheld["value_text"], withheld["value"], withheld["value_flag"]) == ("W", None, "withheld")
    silicon = _one(
        _typed("MCS2024_Fig2_Net_Import_Reliance.csv"),
        commodity="Silicon, metal and ferrosilicon",
        statistic="Net import reliance",
    )
    assert (silicon["value_text"], silicon["value_high"], silicon["value_flag"]) == ("<50", 50.0, "less_than")
    zirconium = _one(typed, commodity="Zirconium (ores and concentrates)", statistic="Consumption, apparent")
    assert (zirconium["value_text"], zirconium["value_high"], zirconium["value_flag"]) == (
        "<100,000",
        100000.0,
        "less_than",
    )
    assert _one(typed, commodity="Aluminum (bauxite)", statistic="Net import reliance")[OUT_OF_SCOPE] == (
        "commodity other than rare earths, yttrium or scandium (Table 5—Salient Statistics for "
        "Critical Minerals)"
    )


def test_figure2_net_import_reliance_and_ranked_import_sources():
    typed = _typed("MCS2024_Fig2_Net_Import_Reliance.csv")
    ree = typed.filter(pl.col("commodity") == "Rare earths, compounds and metals")
    nir = _one(ree, statistic="Net import reliance")
    assert (nir["value_text"], nir["value_low"], nir["year"]) == (">95", 95.0, 2023)
    sources = ree.filter(pl.col("statistic") == "Import sources").sort("value")
    assert sources.select("country", "value", "year_start", "year").rows() == [
        ("China", 1.0, 2019, 2022),
        ("Malaysia", 2.0, 2019, 2022),
        ("Japan", 3.0, 2019, 2022),
        ("Estonia", 4.0, 2019, 2022),
    ]
    assert _one(typed, commodity="Yttrium", statistic="Net import reliance")["value"] == 100.0
    assert _one(typed, commodity="Lithium", statistic="Net import reliance")[OUT_OF_SCOPE] is not None


def test_figure3_is_a_count_over_all_commodities_and_out_of_scope():
    typed = _typed("MCS2024_Fig3_Major_Import_Sources.csv")
    china = _one(typed, country="China")
    assert (china["value"], china["unit"], china["year_start"], china["year"]) == (
        24.0,
        "commodities",
        2019,
        2022,
    )
    assert typed[OUT_OF_SCOPE].null_count() == 0
    assert not typed["is_rare_earth"].any()


def test_a_file_name_naming_another_edition_is_refused(tmp_path):
    renamed = tmp_path / "mcs2023-raree_salient.csv"
    shutil.copy(REAL / "mcs2024-raree_salient.csv", renamed)
    with pytest.raises(
        SourceFileError, match="the file name says MCS 2023 but its DataSource column says MCS 2024"
    ):
        usgs.read(renamed)


# --- the later edition replaces the earlier: dbt on a lake of the real files ----------------------

DBT = str(Path(sys.executable).parent / "dbt")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real USGS files landed newest edition FIRST (so load order alone would pick MCS2023),
    then dbt builds fct_usgs_statistics and its parents."""
    root = tmp_path_factory.mktemp("usgs_real")
    inbox, lake = root / "inbox", root / "data" / "lake"
    for names in (
        ["mcs2024-raree_salient.csv", "mcs2024-raree_world.csv"],
        ["mcs2023-raree_salient.csv", "mcs2023-raree_world.csv"],
        ["rare_earths_mcs2022-raree_salient.csv", "rare_earths_mcs2022-raree_world.csv"],
        [n for n in LANDS if n.startswith(("MCS2024_", "mcs2024-yttri", "mcs2024-scand"))],
    ):
        shutil.rmtree(inbox, ignore_errors=True)
        drop(inbox, "usgs", *(REAL / n for n in names))
        report = ingest_source(usgs.SPEC, inbox_dir=inbox, lake_dir=lake)
        assert all(load.status == "landed" for load in report.loads), [load.message for load in report.loads]
    project = root / "dbt"
    shutil.copytree(REPO / "dbt", project, ignore=shutil.ignore_patterns("target*", "logs", ".user.yml"))
    path = root / "warehouse.duckdb"
    env = {
        **os.environ,
        "REE_DATA_DIR": str(lake.parent),
        "REE_LAKE_DIR": str(lake),
        "REE_WAREHOUSE_PATH": str(path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    done = subprocess.run(
        [DBT, "build", "--select", "+fct_usgs_statistics", "--exclude", "resource_type:unit_test",
         "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(root / "target"), "--log-path", str(root / "target")],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    return path


def _query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_later_edition_replaces_the_earlier_whatever_the_load_order(warehouse):
    def figure(detail: str, year: int) -> list[tuple]:
        return _query(
            warehouse,
            "select mcs_edition, value from marts.fct_usgs_statistics where statistic_detail = ? "
            "and country = 'United States' and year = ? and commodity = 'Rare earths'",
            [detail, year],
        )

    # MCS2023 said 11,000 t of compounds imported in 2022, MCS2024 10,700 t: MCS2024 is current.
    assert figure("Imports for consumption: Compounds", 2022) == [(2024, 10700.0)]
    assert figure("Consumption, apparent: Compounds-Metals", 2022) == [(2024, 10200.0)]
    assert figure("Consumption, apparent: Compounds-Metals", 2019) == [(2024, 11800.0)]
    assert figure("Consumption, apparent: Compounds-Metals", 2020) == [(2024, 6490.0)]
    # 2018 is in MCS2022 and MCS2023 only: MCS2023's; 2017 only in MCS2022.
    assert figure("Imports for consumption: Compounds", 2018) == [(2023, 10800.0)]
    assert figure("Imports for consumption: Compounds", 2017) == [(2022, 11000.0)]
    # All three editions stay in staging.
    assert _query(
        warehouse,
        "select mcs_edition, value from staging.stg_usgs__statistics where source_field = "
        "'Imports_Compounds_t' and year = 2021 order by mcs_edition",
    ) == [(2022, 7700.0), (2023, 7690.0), (2024, 7690.0)]
    # World production 2022: MCS2023's estimate 300,000 stands in MCS2024 too; the US 43,000 → 42,000.
    assert _query(
        warehouse,
        "select country, mcs_edition, value, is_total from marts.fct_usgs_statistics where "
        "section = 'World Mine Production and Reserves' and statistic = 'Production' and year = 2022 "
        "and country in ('United States', 'World total (rounded)') order by country",
    ) == [("United States", 2024, 42000.0, False), ("World total (rounded)", 2024, 300000.0, True)]


def test_mart_holds_imports_nir_import_sources_and_prices_in_scope_only(warehouse):
    measures = dict(
        _query(warehouse, "select measure, count(*) from marts.fct_usgs_statistics group by 1 order by 1")
    )
    assert {"imports", "net_import_reliance", "import_source", "price", "production", "reserves"} <= set(
        measures
    )
    assert _query(
        warehouse,
        "select count(*) from marts.fct_usgs_statistics where commodity in ('Lithium', 'Aluminum (bauxite)', "
        "'Nonfuel mineral commodities')",
    ) == [(0,)]
    assert _query(
        warehouse,
        "select mcs_edition, unit, value from marts.fct_usgs_statistics where measure = 'price' "
        "and statistic_detail = 'Price, average: Dy2O3' and year = 2023",
    ) == [(2024, "dollars per kilogram", 323.0)]
    assert _query(
        warehouse,
        "select country, value from marts.fct_usgs_statistics where measure = 'import_source' "
        "and section like 'Figure 2%' and commodity = 'Rare earths, compounds and metals' order by value",
    ) == [("China", 1.0), ("Malaysia", 2.0), ("Japan", 3.0), ("Estonia", 4.0)]
