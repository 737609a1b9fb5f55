"""End to end: materialize everything into a temporary REE_DATA_DIR and query the serving file.

Expected figures are computed by hand from the files (see fixtures/*/README.md and the sample
generator's notes in data/samples/README.md), not read back from the pipeline.
"""

import hashlib
import json
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import FIXTURES, SAMPLES, drop


def run_everything() -> dg.ExecuteInProcessResult:
    from dagster_project.definitions import defs

    job = defs.resolve_job_def("materialize_everything")
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def mart_checksums(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select 'marts.' || table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall()
        sums = {}
        for (table,) in tables:
            rows = con.execute(f"select * from {table} order by all").fetchall()  # noqa: S608
            sums[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return sums
    finally:
        con.close()


@pytest.fixture(scope="module")
def samples_run(samples_state: Path, tmp_path_factory: pytest.TempPathFactory):
    """The first run over the shipped samples (conftest.samples_state: `make run`'s path, on a
    persistent instance), then a second run in process, on a copy, over the same inbox: the
    tests read their results."""
    from runner import copy_state

    _, data = copy_state(samples_state, tmp_path_factory.mktemp("samples"))
    first_sums = mart_checksums(data / "serving" / "ree.duckdb")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REE_INBOX_DIR", str(SAMPLES))
        patch.setenv("REE_DATA_DIR", str(data))
        patch.delenv("DAGSTER_HOME", raising=False)
        second = run_everything()
        yield {
            "data": data,
            "first_log": (samples_state / "run.log").read_text(),
            "second": second,
            "first_sums": first_sums,
        }


def test_samples_run_succeeds_and_publishes(samples_run):
    assert "RUN_SUCCESS" in samples_run["first_log"]
    assert re.search(r"checks: \d+ passed, 0 failed", samples_run["first_log"])
    serving = samples_run["data"] / "serving" / "ree.duckdb"
    for table in ("fct_trade_flows", "fct_element_flows", "fct_prices", "mart_supplier_concentration"):
        assert query(serving, f"select count(*) from marts.{table}")[0][0] > 0  # noqa: S608
    loads = query(
        serving, "select source, status, rows_read, rows_landed, rows_quarantined from audit.load_log"
    )
    files_per_source: dict[str, int] = {}
    for source, status, *_ in loads:
        assert status == "landed"
        files_per_source[source] = files_per_source.get(source, 0) + 1
    assert files_per_source == {"census": 2, "comtrade": 4, "fx": 1, "gacc": 11, "prices": 1, "usgs": 1}
    assert sum(r[2] for r in loads) == 1292 + 1938 + 3132 + 1405 + 3816 + 116
    assert all(read == landed + quarantined for _, _, read, landed, quarantined in loads)


def test_us_supplier_concentration_matches_hand_computation(samples_run):
    # US imports of 284690 in 2023, country rows only (World, "Areas, nes" and slices excluded):
    # CHN 41,649,905; MYS 7,441,553; JPN 3,454,006; EST 2,936,327; FRA 1,643,668; DEU 796,443;
    # AUT 655,558; GBR 320,524; IND 296,996; VNM 128,275 → total 59,323,255.
    values = [41649905, 7441553, 3454006, 2936327, 1643668, 796443, 655558, 320524, 296996, 128275]
    total = sum(values)
    hhi = sum((100 * v / total) ** 2 for v in values)
    row = query(
        samples_run["data"] / "serving" / "ree.duckdb",
        "select total_import_value_usd, hhi, top1_partner_iso3, top1_share, supplier_count, "
        "china_share, world_value_usd, year_basis from marts.mart_supplier_concentration "
        "where source = 'comtrade' and importer_iso3 = 'USA' and hs6 = '284690' and year = 2023",
    )
    assert row == [
        (
            pytest.approx(59323255),
            pytest.approx(hhi),
            "CHN",
            pytest.approx(41649905 / total),
            10,
            pytest.approx(41649905 / total),
            pytest.approx(59449174),
            "annual",
        )
    ]
    assert hhi == pytest.approx(5156.26, abs=0.01)


def test_china_exports_keep_monthly_and_annual_apart(samples_run):
    serving = samples_run["data"] / "serving" / "ree.duckdb"
    nov_magnets_to_us = query(
        serving,
        "select net_weight_kg, value_usd, value_basis from marts.fct_trade_flows where source = 'comtrade' "
        "and reporter_iso3 = 'CHN' and partner_iso3 = 'USA' and flow = 'export' and freq = 'M' "
        "and period_start = date '2025-11-01' and product_code = '850511'",
    )
    assert nov_magnets_to_us == [(582000.0, 20096463.0, "FOB")]
    # Published: China's 2024 rare-earth exports 55,431 t, USD 488.8 M (284690+284610+280530).
    by_freq = query(
        serving,
        "select freq, sum(net_weight_kg), sum(value_usd) from marts.fct_trade_flows "
        "where reporter_iso3 = 'CHN' and flow = 'export' and partner_iso3 = 'WLD' and year = 2024 "
        "and hs6 in ('284690', '284610', '280530') group by freq order by freq",
    )
    assert by_freq == [("A", 55431000.0, 488800000.0), ("M", 55431000.0, 488800000.0)]


def test_prices_are_normalised_to_usd_per_kg_without_vat(samples_run):
    serving = samples_run["data"] / "serving" / "ree.duckdb"
    rows = query(
        serving,
        "select price_date, price_low, price_high, usd_per_kg_low, usd_per_kg_high, fx_per_usd, "
        "fx_rate_date from marts.fct_prices where basis = 'exw_china_vat_incl' and currency = 'CNY' "
        "and unit = 't' order by price_date, product limit 1",
    )
    (date, low, high, usd_low, usd_high, rate, rate_date) = rows[0]
    fx_rows = (SAMPLES / "fx" / "fx_rates_2020_2025.csv").read_text().splitlines()
    rates = {line.split(",")[0]: float(line.split(",")[2]) for line in fx_rows if ",CNY," in line}
    expected_rate = rates[max(d for d in rates if d <= str(date))]
    assert rate == expected_rate
    assert str(rate_date) <= str(date)
    assert usd_low == pytest.approx(low / expected_rate / 1000 / 1.13)
    assert usd_high == pytest.approx(high / expected_rate / 1000 / 1.13)


def test_running_twice_changes_no_figure(samples_run):
    assert samples_run["second"].success
    serving = samples_run["data"] / "serving" / "ree.duckdb"
    assert mart_checksums(serving) == samples_run["first_sums"]
    assert query(serving, "select count(*) from audit.load_log") == [(20,)]


def test_fixtures_end_to_end_revision_and_a_refused_file(workspace, tmp_path):
    inbox, serving = workspace["inbox"], workspace["data"] / "serving" / "ree.duckdb"
    drop(inbox, "comtrade", FIXTURES / "comtrade" / "us_imports_2023_traps.json")
    drop(inbox, "prices", FIXTURES / "prices" / "price_sheet_traps.csv")
    drop(inbox, "fx", FIXTURES / "fx" / "fx_traps.csv")
    drop(inbox, "gacc/exports", FIXTURES / "gacc" / "exports" / "parent_and_detail_lines_202506.csv")
    (inbox / "gacc_later").mkdir()
    result = run_everything()
    assert result.success

    # GACC: a line and its own sub-lines in one file count once, at the most detailed level. The
    # 8-digit 28469019 (USA, World) has 2846901920 + 2846901940 under it, 85051110 (KOR, World)
    # its 10-digit form 8505111000, the unsplit 28461000 (DEU, World) 28461010: the parents are
    # left out. 28053019 (JPN, World) has no sub-line in the file and counts as it is.
    assert query(
        serving,
        "select partner_iso3, hs6, sum(net_weight_kg), sum(value_usd), "
        "string_agg(product_code, ',' order by product_code) from marts.fct_trade_flows "
        "where source = 'gacc' group by 1, 2 order by 1, 2",
    ) == [
        ("DEU", "284610", 500.0, 5000.0, "28461010"),
        ("JPN", "280530", 300.0, 15000.0, "28053019"),
        ("KOR", "850511", 200.0, 10000.0, "8505111000"),
        ("USA", "284690", 1000.0, 50000.0, "2846901920,2846901940"),
        ("WLD", "280530", 300.0, 15000.0, "28053019"),
        ("WLD", "284610", 500.0, 5000.0, "28461010"),
        ("WLD", "284690", 1000.0, 50000.0, "2846901920,2846901940"),
        ("WLD", "850511", 200.0, 10000.0, "8505111000"),
    ]

    # Shares among countries only: CHN 600k, MYS 300k, JPN 100k → HHI 3600 + 900 + 100.
    assert query(
        serving,
        "select hhi, supplier_count, top1_partner_iso3, top3_share, world_value_usd "
        "from marts.mart_supplier_concentration where hs6 = '284690'",
    ) == [(pytest.approx(4600.0), 3, "CHN", pytest.approx(1.0), 1005000.0)]
    # Breakdown slices never add to the total; the area row never reaches the facts.
    assert query(
        serving,
        "select value_usd from marts.fct_trade_flows where partner_iso3 = 'CHN' and product_code = '284690'",
    ) == [(600000.0,)]
    assert query(serving, "select count(*) from marts.fct_trade_flows where partner_iso3 is null") == [(0,)]
    # Count units are not kg; an undeclared mass stays NULL.
    assert query(
        serving,
        "select net_weight_kg, quantity, quantity_unit from marts.fct_trade_flows "
        "where product_code = '850511'",
    ) == [(None, 1200.0, "u")]
    # Sunday 2025-12-07 uses Friday's rate 7.00; EUR 3,000/kg at 0.80 per USD is 3,750 USD/kg.
    prices = dict(
        query(
            serving,
            "select cast(price_date as varchar) || ' ' || basis, usd_per_kg_low from marts.fct_prices",
        )
    )
    assert prices["2025-12-07 exw_china_vat_incl"] == pytest.approx(1560000 / 7.0 / 1000 / 1.13)
    assert prices["2025-12-05 cif_europe"] == pytest.approx(3750.0)
    assert prices["2025-12-05 fob_china"] == pytest.approx(220.0)

    # A revised file for the same (reporter, flow, freq, period) replaces, never adds.
    revised = json.loads((FIXTURES / "comtrade" / "us_imports_2023_traps.json").read_text())
    revised["data"] = [r for r in revised["data"] if r["partnerCode"] in (156, 0) and r["motCode"] == 0]
    for record in revised["data"]:
        record["primaryValue"] = record["cifvalue"] = 700000 if record["partnerCode"] == 156 else 700000
    (inbox / "comtrade" / "us_imports_2023_revised.json").write_text(json.dumps(revised))
    assert run_everything().success
    assert query(
        serving,
        "select partner_iso3, value_usd from marts.fct_trade_flows where reporter_iso3 = 'USA' order by 1, 2",
    ) == [("CHN", 700000.0), ("CHN", 700000.0), ("WLD", 700000.0)]
    assert query(serving, "select count(*) from audit.load_log where source = 'comtrade'") == [(2,)]

    # One source's refused file blocks only itself: a Comtrade file that fails its GX suite lands
    # nothing (the Comtrade figures stay the previous ones), while a good GACC file of the same run
    # is built and published, and the run summary names the refused file loudly.
    from dagster_project.run import summarise

    comtrade_before = query(
        serving, "select * from marts.fct_trade_flows where source = 'comtrade' order by all"
    )
    payload = json.loads((FIXTURES / "comtrade" / "china_exports_2024_monthly_and_annual.json").read_text())
    payload["data"].append(payload["data"][0])
    (inbox / "comtrade" / "duplicated.json").write_text(json.dumps(payload))
    drop(inbox, "gacc/exports", FIXTURES / "gacc" / "exports" / "rare_earth_exports_202503_usd.csv")
    partly = run_everything()
    assert partly.success
    failed = [e for e in partly.get_asset_check_evaluations() if not e.passed]
    assert [(e.asset_key.to_user_string(), e.check_name) for e in failed] == [("raw_comtrade", "gx_suite")]
    assert failed[0].severity == dg.AssetCheckSeverity.ERROR
    assert failed[0].description.startswith("1 file(s) refused: comtrade/duplicated.json: failed GX suite")
    materialized = {e.asset_key.to_user_string() for e in partly.get_asset_materialization_events()}
    assert {"serving_marts", "supply_risk_report"} <= materialized
    # the GACC update is published (the file's 美元 rows of 2025-03: USA 646,000 kg of 8505111000
    # for USD 21,271,153; JPN 150 kg of 28053012 for USD 44,250)
    assert query(
        serving,
        "select partner_iso3, sum(net_weight_kg), sum(value_usd) from marts.fct_trade_flows "
        "where source = 'gacc' and period_start = date '2025-03-01' and partner_iso3 in ('USA', 'JPN') "
        "group by 1 order by 1",
    ) == [("JPN", 150.0, 44250.0), ("USA", 646000.0, 21271153.0)]
    # the Comtrade figures are the previous ones, and the load log says why
    assert (
        query(serving, "select * from marts.fct_trade_flows where source = 'comtrade' order by all")
        == comtrade_before
    )
    assert query(
        serving, "select status from audit.load_log where source_file = 'comtrade/duplicated.json'"
    ) == [("rejected",)]
    lines, ok = summarise(partly, 1.0)
    assert ok
    refused = [line for line in lines if line.startswith("REFUSED ")]
    assert len(refused) == 1
    assert refused[0].startswith(
        "REFUSED comtrade/duplicated.json: failed GX suite: expect_compound_columns_to_be_unique"
    )
    after = lines[lines.index(refused[0]) + 1]
    assert after.startswith(
        "  => comtrade figures are the PREVIOUS ones: nothing of the refused file(s) landed, so "
        "comtrade data is that of its 2 landed file(s)"
    )
    assert any(line.endswith("(published; previous figures for comtrade: file(s) refused)") for line in lines)
    shutil.rmtree(tmp_path / "unused", ignore_errors=True)
