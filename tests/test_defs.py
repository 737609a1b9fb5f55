"""The code location: loads fast with nothing heavy imported, and its asset keys are deliberate."""

import subprocess
import sys

from conftest import REPO

EXPECTED_KEYS = {
    "raw_census",
    "raw_comtrade",
    "raw_gacc",
    "raw_fx",
    "raw_prices",
    "raw_usgs",
    "reference/census_groupings",
    "reference/comtrade_areas",
    "reference/countries",
    "reference/element_forms",
    "reference/elements",
    "reference/export_controls",
    "reference/export_control_status",
    "reference/magnet_composition",
    "reference/products",
    "staging/stg_census__records",
    "staging/stg_comtrade__records",
    "staging/stg_gacc__records",
    "staging/stg_fx__rates",
    "staging/stg_prices__assessments",
    "staging/stg_usgs__statistics",
    "intermediate/int_census__current",
    "intermediate/int_comtrade__current",
    "intermediate/int_gacc__current",
    "intermediate/int_trade_flows__census",
    "intermediate/int_trade_flows__gacc",
    "intermediate/int_trade_flows__periods",
    "intermediate/int_trade_flows__preferred",
    "intermediate/int_fx__current",
    "intermediate/int_fx__monthly_average",
    "intermediate/int_prices__current",
    "intermediate/int_usgs__current",
    "intermediate/int_trade_flows__comtrade",
    "intermediate/int_trade_flows__unioned",
    "intermediate/int_element_flows__exporter_line_shares",
    "intermediate/int_reconciled_flows__cif_fob_rates",
    "intermediate/int_reconciled_flows__reporter_dispersion",
    "marts/dim_country",
    "marts/dim_month",
    "marts/mart_china_exports_by_stage",
    "marts/mart_export_control_exposure",
    "marts/mart_mirror_flows",
    "marts/fct_reconciled_flows",
    "marts/mart_china_us_element_flows",
    "marts/mart_unit_value_vs_price",
    "marts/mart_upcoming_suspension_expiries",
    "marts/rpt_export_control_exposure",
    "marts/rpt_unit_value_vs_price",
    "marts/dim_element",
    "marts/dim_export_control",
    "marts/dim_export_control_status",
    "marts/dim_product",
    "marts/fct_element_flows",
    "marts/fct_prices",
    "marts/fct_trade_flows",
    "marts/fct_usgs_statistics",
    "marts/mart_usgs_imports_vs_customs",
    "marts/mart_supplier_concentration",
    "marts/mart_supplier_concentration_by_element",
    "audit/load_log",
    "serving_marts",
    "supply_risk_report",
    "comtrade_api_pull",
    "census_api_pull",
}


def test_asset_keys_snapshot_and_graph_order():
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == EXPECTED_KEYS, "an asset was added, removed or renamed: update the snapshot deliberately"
    publish = next(k for k in graph.get_all_asset_keys() if k.to_user_string() == "serving_marts")
    upstream = {k.to_user_string() for k in graph.get(publish).parent_keys}
    assert {"marts/fct_trade_flows", "marts/mart_supplier_concentration", "audit/load_log"} <= upstream
    staging = next(
        k for k in graph.get_all_asset_keys() if k.to_user_string() == "staging/stg_comtrade__records"
    )
    assert {k.to_user_string() for k in graph.get(staging).parent_keys} == {"raw_comtrade"}
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert ("raw_comtrade", "gx_suite") in checks
    assert any(asset == "marts/fct_trade_flows" for asset, _ in checks)


def test_code_location_load_imports_no_gx_and_parses_no_dbt():
    code = (
        "import sys, time; t = time.monotonic(); import dagster_project.definitions as d; "
        "d.defs.resolve_asset_graph(); "
        "print(round(time.monotonic() - t, 1), 'great_expectations' in sys.modules, "
        "'dbt.cli.main' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    _seconds, gx_loaded, dbt_cli_loaded = out.stdout.split()
    assert (gx_loaded, dbt_cli_loaded) == ("False", "False")


def test_dagster_definitions_validate():
    dagster = REPO / ".venv" / "bin" / "dagster"
    out = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "dagster_project.definitions"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def _load(status: str, **counts):
    import datetime

    from dagster_project.ingest import landing

    return landing.FileLoad(
        load_id=f"gacc-{status}",
        source="gacc",
        source_file=f"gacc/exports/{status}.csv",
        file_sha256="0" * 64,
        file_bytes=1,
        loaded_at=datetime.datetime(2026, 12, 1),
        status=status,
        message=f"gacc/exports/{status}.csv: the problem" if status == "rejected" else "",
        **counts,
    )


def test_rows_out_of_scope_raise_no_warning_and_a_refused_file_fails_its_check_without_blocking():
    from dagster_project.ingest import assets, landing
    from dagster_project.sources import SOURCES

    spec = SOURCES["gacc"]
    scoped_out = _load(
        "landed",
        rows_read=40,
        rows_out_of_scope=40,
        out_of_scope_reasons={"not a rare-earth product line": 40},
    )
    report = landing.SourceLoadReport(source="gacc", loads=[scoped_out])
    gx, quarantine = assets._check_results(spec, report)
    assert gx.passed and quarantine.passed
    assert quarantine.metadata["rows_out_of_scope"].value == 40
    meta = assets._materialization_metadata(report, "/inbox/gacc")
    assert meta["rows_out_of_scope"].value == 40
    assert meta["out_of_scope_reasons"].value == {"not a rare-earth product line": 40}

    report.loads.append(_load("landed", rows_read=3, rows_landed=2, rows_quarantined=1))
    report.loads.append(_load("rejected"))
    gx, quarantine = assets._check_results(spec, report)
    assert not quarantine.passed and quarantine.metadata["rows_quarantined"].value == 1
    assert not gx.passed and gx.severity.value == "ERROR"
    assert gx.description == (
        "1 file(s) refused: gacc/exports/rejected.csv: the problem; nothing of it landed: the gacc "
        "figures stay those of its files landed before, and the other sources still build and publish"
    )
    # not blocking: one source's refused file does not stop the other sources' build and publish
    checks = {c.name: c for c in assets.build_ingest_asset(spec).check_specs}
    assert (checks["gx_suite"].blocking, checks["no_rows_quarantined"].blocking) == (False, False)
