"""The supply-risk report: rendered from a tiny hand-made serving file, then opened in a real browser.

The serving file is built here with a few rows per mart (columns as in dbt/models/{marts,reports}/*.yml), so
these tests do not depend on a pipeline run. The browser test drives the system Chromium through
playwright (never `playwright install`); without /usr/bin/chromium it is skipped.
"""

import datetime
import html
import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from conftest import REPO

from dagster_project.serving.assets import supply_risk_report
from dagster_project.serving.report import CHARTS, build_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO / "artifacts" / "report.png"
GENERATED_AT = datetime.datetime(2026, 1, 15, 9, 30)

MARTS: dict[str, dict[str, str]] = {
    "mart_china_exports_by_stage": {
        "period_start": "date", "freq": "varchar", "year": "integer", "month": "integer",
        "stage": "varchar", "series": "varchar", "partner_iso3": "varchar", "source": "varchar",
        "world_basis": "varchar", "net_weight_kg": "double", "value_usd": "double", "mom_pct": "double",
        "yoy_pct": "double",
    },
    "mart_mirror_flows": {
        "exporter_iso3": "varchar", "importer_iso3": "varchar", "hs6": "varchar", "freq": "varchar",
        "period_start": "date", "year": "integer", "month": "integer", "export_value_usd": "double",
        "import_value_usd": "double", "export_kg": "double", "import_kg": "double",
        "value_gap_usd": "double", "cif_fob_ratio": "double", "export_source": "varchar",
        "import_source": "varchar",
    },
    "mart_china_us_element_flows": {
        "element_group": "varchar", "freq": "varchar", "period_start": "date", "year": "integer",
        "month": "integer", "china_export_element_kg": "double", "china_export_value_usd": "double",
        "us_import_element_kg": "double", "us_import_value_usd": "double",
        "us_import_element_kg_exporter_lines": "double", "reconciled_element_kg": "double",
        "element_kg_gap": "double",
    },
    "mart_supplier_concentration": {
        "source": "varchar", "importer_iso3": "varchar", "hs6": "varchar", "year": "integer",
        "year_basis": "varchar", "total_import_value_usd": "double", "hhi": "double",
        "effective_suppliers": "double", "top1_partner_iso3": "varchar", "top1_share": "double",
        "top3_share": "double", "supplier_count": "bigint", "china_share": "double",
        "world_value_usd": "double",
    },
    "rpt_export_control_exposure": {
        "regime_id": "varchar", "element": "varchar", "source": "varchar", "reporter_iso3": "varchar",
        "period_start": "date", "freq": "varchar", "effective_date": "date",
        "months_from_effective": "integer", "world_basis": "varchar", "element_kg": "double",
        "reo_kg": "double", "value_usd": "double",
    },
    "rpt_unit_value_vs_price": {
        "source": "varchar", "reporter_iso3": "varchar", "flow": "varchar", "element": "varchar",
        "form": "varchar", "freq": "varchar", "period_start": "date", "world_basis": "varchar",
        "price_bases": "varchar", "tariff_lines": "bigint", "net_weight_kg": "double",
        "value_usd": "double", "unit_value_usd_per_kg": "double", "benchmark_usd_per_kg": "double",
        "premium_pct": "double",
    },
    "mart_upcoming_suspension_expiries": {
        "regime_id": "varchar", "elements": "varchar", "suspended_until": "date", "days_until": "integer",
        "expiry_state": "varchar", "days_since_expiry": "integer", "status_as_of": "varchar",
        "as_of_date": "date",
    },
    "dim_export_control": {"regime_id": "varchar", "element": "varchar", "scope": "varchar"},
}  # fmt: skip


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    for row in rows:
        columns = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        con.execute(f'insert into marts."{table}" ({columns}) values ({marks})', list(row.values()))  # noqa: S608


def _sample_rows() -> dict[str, list[dict]]:
    d = datetime.date
    china = []
    for month, (compound, metal, magnet) in enumerate([(3000, 400, 5000), (3200, 450, 5200)], start=3):
        for stage, series, kg in (
            ("compound", "rare_earths", compound * 1000),
            ("metal_alloy", "rare_earths", metal * 1000),
            ("magnet", "magnets", magnet * 1000),
        ):
            china.append(
                {"period_start": d(2025, month, 1), "freq": "M", "year": 2025, "month": month, "stage": stage,
                 "series": series, "partner_iso3": "WLD", "source": "gacc", "world_basis": "declared",
                 "net_weight_kg": kg, "value_usd": kg * 10.0}
            )  # fmt: skip
    china.append(
        {"period_start": d(2025, 1, 1), "freq": "M2", "year": 2025, "month": 1, "stage": "magnet",
         "series": "magnets", "partner_iso3": "WLD", "source": "gacc", "world_basis": "declared",
         "net_weight_kg": 9_800_000.0, "value_usd": 4e8}
    )  # fmt: skip
    china.append(
        {"period_start": d(2025, 3, 1), "freq": "M", "year": 2025, "month": 3, "stage": "magnet",
         "series": "magnets", "partner_iso3": "USA", "source": "gacc", "world_basis": None,
         "net_weight_kg": 600_000.0, "value_usd": 2e7}
    )  # fmt: skip
    mirror = [
        {"exporter_iso3": "CHN", "importer_iso3": "USA", "hs6": "284690", "freq": "A",
         "period_start": d(2024, 1, 1), "year": 2024, "export_value_usd": 40e6, "import_value_usd": 43e6,
         "value_gap_usd": 3e6,
         "export_source": "comtrade", "import_source": "comtrade"},
        {"exporter_iso3": "CHN", "importer_iso3": "USA", "hs6": "850511", "freq": "M",
         "period_start": d(2025, 3, 1), "year": 2025, "month": 3, "export_value_usd": 20e6,
         "import_value_usd": 21.5e6, "value_gap_usd": 1.5e6,
         "export_source": "gacc", "import_source": "census"},
        {"exporter_iso3": "CHN", "importer_iso3": "USA", "hs6": "850511", "freq": "M",
         "period_start": d(2025, 4, 1), "year": 2025, "month": 4, "export_value_usd": 18e6,
         "import_value_usd": None, "value_gap_usd": None,
         "export_source": "gacc", "import_source": None},
    ]  # fmt: skip
    china_us = [
        {"element_group": group, "freq": freq, "period_start": d(2025, month, 1), "year": 2025,
         "month": month, "china_export_element_kg": china, "us_import_element_kg": us,
         "us_import_element_kg_exporter_lines": split, "reconciled_element_kg": reconciled,
         "element_kg_gap": None if china is None or us is None else us - china}
        for group, freq, month, china, us, split, reconciled in (
            ("Dy", "M2", 1, 1500.0, 1320.0, 900.0, 1410.0),
            ("Dy", "M", 3, 800.0, 610.0, 400.0, 700.0),
            ("Tb", "M", 3, 120.0, None, None, 118.0),
            ("NdPr", "M", 4, 9000.0, 9900.0, None, 9500.0),
        )
    ]  # fmt: skip
    concentration = [
        {"source": "comtrade", "importer_iso3": "USA", "hs6": "284690", "year": year, "year_basis": "annual",
         "hhi": hhi, "china_share": share, "supplier_count": 5, "top1_partner_iso3": "CHN"}
        for year, hhi, share in ((2022, 5083.2, 0.695), (2023, 5156.3, 0.702), (2024, 5416.6, 0.719))
    ] + [
        {"source": "census", "importer_iso3": "USA", "hs6": "850511", "year": 2025,
         "year_basis": "sum_of_12_months", "hhi": 6100.0, "china_share": 0.76, "supplier_count": 9,
         "top1_partner_iso3": "CHN"},
    ]  # fmt: skip
    exposure = [
        {"regime_id": "mofcom-gacc-2025-18", "element": element, "period_start": d(2025, 4 + m, 1),
         "freq": "M", "reporter_iso3": "CHN", "source": "gacc", "element_kg": kg,
         "effective_date": d(2025, 4, 4), "months_from_effective": m, "world_basis": "declared"}
        for element, scale in (("Dy", 1.0), ("Tb", 0.3))
        for m, kg in ((-1, 9000 * scale), (0, 7000 * scale), (1, 300 * scale), (2, 2500 * scale))
    ]  # fmt: skip
    unit_values = [
        {"source": "gacc", "reporter_iso3": "CHN", "flow": "export", "element": "Dy", "form": "oxide",
         "freq": "M", "period_start": d(2025, month, 1), "world_basis": "declared",
         "price_bases": "fob_china", "tariff_lines": 1, "net_weight_kg": kg, "value_usd": kg * uv,
         "unit_value_usd_per_kg": uv, "benchmark_usd_per_kg": 200.0, "premium_pct": 100 * (uv / 200 - 1)}
        for month, kg, uv in ((3, 1000.0, 230.0), (4, 900.0, 190.0))
    ]  # fmt: skip
    expiries = [
        {"regime_id": "mofcom-2025-57", "elements": "Er, Eu, Ho, Tm, Yb", "suspended_until": d(2026, 11, 10),
         "days_until": 300, "expiry_state": "upcoming", "status_as_of": "suspended",
         "as_of_date": d(2026, 1, 14)},
        {"regime_id": "mofcom-2024-46", "elements": None, "suspended_until": d(2026, 11, 27),
         "days_until": 317, "expiry_state": "upcoming", "status_as_of": "suspended",
         "as_of_date": d(2026, 1, 14)},
    ]  # fmt: skip
    controls = [
        {
            "regime_id": "mofcom-2025-57",
            "element": "Ho",
            "scope": "Five medium/heavy REEs <script>x</script>",
        },
        {"regime_id": "mofcom-2024-46", "element": None, "scope": "Ga, Ge, Sb: ban on exports to the US"},
    ]
    return {
        "mart_china_exports_by_stage": china,
        "mart_mirror_flows": mirror,
        "mart_china_us_element_flows": china_us,
        "mart_supplier_concentration": concentration,
        "rpt_export_control_exposure": exposure,
        "rpt_unit_value_vs_price": unit_values,
        "mart_upcoming_suspension_expiries": expiries,
        "dim_export_control": controls,
    }


def make_serving_file(folder: Path, empty: tuple[str, ...] = (), missing: tuple[str, ...] = ()) -> Path:
    """A serving file laid out as publish writes it: marts in `marts`, the load log in `audit`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ree.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        rows = _sample_rows()
        for table, columns in MARTS.items():
            if table in missing:
                continue
            ddl = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
            con.execute(f'create table marts."{table}" ({ddl})')
            if table not in empty:
                _insert(con, table, rows[table])
        con.execute("create schema audit")
        con.execute(
            "create table audit.load_log as select 'gacc-0123456789abcdef' as load_id, 'gacc' as source, "
            "'landed' as status, timestamp '2026-01-15 08:00:00' as loaded_at"
        )
        con.execute(
            "create table audit.publish_info as select timestamp '2026-01-15 08:05:00' as published_at, "
            "'warehouse.duckdb' as warehouse_file, 9::bigint as table_count"
        )
    finally:
        con.close()
    return path


def _external_references(page: str) -> list[str]:
    """src/href attributes of script, link, img, iframe tags that point at the network, and CSS imports."""
    tags = re.findall(r"<(?:script|link|img|iframe|source)\b[^>]*>", page, flags=re.IGNORECASE)
    found = [t for t in tags if re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", t, re.I)]
    found += re.findall(r"@import[^;]*|url\(\s*['\"]?(?:https?:)?//[^)]*\)", page, flags=re.IGNORECASE)
    return found


def _render(tmp_path: Path, **kwargs: tuple[str, ...]):
    serving = make_serving_file(tmp_path / "serving", **kwargs)
    output = tmp_path / "reports" / "supply_risk.html"
    result = build_report(serving, output, generated_at=GENERATED_AT)
    return result, output.read_text(encoding="utf-8")


def test_every_chart_renders_with_title_and_source_caption(tmp_path):
    result, page = _render(tmp_path)
    assert result.charts_rendered == [chart.key for chart in CHARTS]
    assert result.charts_empty == {}
    assert result.path == tmp_path / "reports" / "supply_risk.html"
    for chart in CHARTS:
        assert f"<h2>{html.escape(chart.title)}</h2>" in page
        assert f"Source: marts.{chart.mart}." in page
        assert f'id="chart-{chart.key}"' in page
    assert "no data:" not in page
    # captions name the data source column values, units and the period covered
    assert "source: gacc" in page
    assert "export_source: comtrade, gacc; import_source: census, comtrade" in page
    assert "Units: tonnes of net weight" in page
    assert "Period: 2025-01 to 2025-04" in page
    assert "Period: 2022 to 2025" in page
    # text from the data is escaped, never markup
    assert "<script>x</script>" not in page


def test_page_is_self_contained(tmp_path):
    _, page = _render(tmp_path)
    assert _external_references(page) == []
    assert page.count("window.PlotlyConfig") == 1, "plotly.js must be inlined exactly once"
    assert re.search(r"<script[^>]*\bsrc=", page) is None
    assert "<link" not in page.lower()
    assert "fonts.googleapis" not in page


def test_empty_and_missing_marts_show_no_data_panels(tmp_path):
    result, page = _render(
        tmp_path, empty=("rpt_unit_value_vs_price",), missing=("rpt_export_control_exposure",)
    )
    assert set(result.charts_empty) == {"unit_value_vs_price", "export_control_exposure"}
    assert len(result.charts_rendered) == len(CHARTS) - 2
    assert "marts.rpt_unit_value_vs_price has no rows" in result.charts_empty["unit_value_vs_price"]
    assert "benchmark prices (prices/" in result.charts_empty["unit_value_vs_price"]
    assert "is not in the serving file" in result.charts_empty["export_control_exposure"]
    assert page.count('<div class="no-data"') == 2
    assert "<strong>no data:</strong> marts.rpt_unit_value_vs_price has no rows" in page
    for chart in CHARTS:  # an empty panel keeps its title and names its mart
        assert f"<h2>{html.escape(chart.title)}</h2>" in page
        assert f"Source: marts.{chart.mart}." in page


def test_rows_without_the_needed_slice_give_no_data(tmp_path):
    serving = make_serving_file(tmp_path / "serving")
    con = duckdb.connect(str(serving))
    try:
        con.execute("delete from marts.mart_mirror_flows where import_value_usd is not null")
        con.execute("alter table marts.mart_supplier_concentration drop column china_share")
    finally:
        con.close()
    result = build_report(serving, tmp_path / "out.html", generated_at=GENERATED_AT)
    assert "no China→US row where both sides declared" in result.charts_empty["mirror_gap_chn_usa"]
    assert "has no column china_share" in result.charts_empty["us_supplier_concentration"]


def test_missing_serving_file_still_writes_the_page(tmp_path):
    output = tmp_path / "reports" / "supply_risk.html"
    result = build_report(tmp_path / "nowhere" / "ree.duckdb", output, generated_at=GENERATED_AT)
    assert result.charts_rendered == []
    assert all("does not exist; publish it with `make run`" in r for r in result.charts_empty.values())
    assert output.read_text(encoding="utf-8").count('<div class="no-data"') == len(CHARTS)


def test_written_atomically_and_replaced(tmp_path):
    serving = make_serving_file(tmp_path / "serving")
    output = tmp_path / "reports" / "supply_risk.html"
    output.parent.mkdir()
    output.write_text("old version", encoding="utf-8")
    build_report(serving, output, generated_at=GENERATED_AT)
    assert output.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in output.parent.iterdir()] == ["supply_risk.html"], "no temporary file left"


def test_report_reads_the_serving_file_read_only(tmp_path):
    serving = make_serving_file(tmp_path / "serving")
    before = serving.stat().st_mtime_ns
    build_report(serving, tmp_path / "out.html", generated_at=GENERATED_AT)
    assert serving.stat().st_mtime_ns == before
    assert not Path(f"{serving}.wal").exists()


def test_fixture_and_charts_follow_the_mart_contracts():
    """The hand-made marts and the columns each chart reads exist in the YAML of the published
    models (dbt/models/marts and dbt/models/reports)."""
    declared: dict[str, set[str]] = {}
    for path in [
        *(REPO / "dbt" / "models").glob("marts/*.yml"),
        *(REPO / "dbt" / "models").glob("reports/*.yml"),
    ]:
        for model in yaml.safe_load(path.read_text("utf-8")).get("models", []):
            declared[model["name"]] = {column["name"] for column in model.get("columns", [])}
    for table, columns in MARTS.items():
        assert set(columns) <= declared[table], f"{table}: {set(columns) - declared[table]} not in its YAML"
    for chart in CHARTS:
        assert set(chart.columns) <= declared[chart.mart], f"{chart.key} reads columns {chart.mart} lacks"


def test_asset_materializes_the_report(tmp_path, monkeypatch):
    data = tmp_path / "data"
    make_serving_file(data / "serving")
    monkeypatch.setenv("REE_DATA_DIR", str(data))
    spec = next(iter(supply_risk_report.specs))
    assert spec.group_name == "serving"
    assert set(spec.kinds) == {"plotly", "html"}
    assert list(spec.owners) == ["team:analytics"]
    assert [dep.asset_key for dep in spec.deps] == [dg.AssetKey("serving_marts")]
    assert "supply_risk.html" in (spec.description or "")

    result = dg.materialize([supply_risk_report], instance=dg.DagsterInstance.ephemeral())
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    path = data / "reports" / "supply_risk.html"
    assert metadata["path"].value == str(path)
    assert metadata["charts"].value == {"rendered": [chart.key for chart in CHARTS], "empty": {}}
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_after_the_last_suspension_ended_the_expiries_panel_shows_them(tmp_path):
    """Built on 2026-12-03, after the suspensions ending 2026-11-10 and 2026-11-27: the panel lists
    them as expired with their status unconfirmed, never "no data" and never "in force"."""
    serving = make_serving_file(tmp_path / "serving")
    con = duckdb.connect(str(serving))
    try:
        con.execute("delete from marts.mart_upcoming_suspension_expiries")
        _insert(
            con,
            "mart_upcoming_suspension_expiries",
            [
                {"regime_id": "mofcom-2025-57", "elements": "Er, Eu, Ho, Tm, Yb",
                 "suspended_until": datetime.date(2026, 11, 10), "days_until": -23, "expiry_state": "expired",
                 "days_since_expiry": 23, "status_as_of": "expired_status_unconfirmed",
                 "as_of_date": datetime.date(2026, 12, 3)},
                {"regime_id": "mofcom-2024-46", "elements": None,
                 "suspended_until": datetime.date(2026, 11, 27), "days_until": -6, "expiry_state": "expired",
                 "days_since_expiry": 6,
                 "status_as_of": "expired_status_unconfirmed", "as_of_date": datetime.date(2026, 12, 3)},
            ],
        )  # fmt: skip
    finally:
        con.close()
    output = tmp_path / "out.html"
    result = build_report(serving, output, generated_at=datetime.datetime(2026, 12, 3, 9, 0))
    assert "upcoming_suspension_expiries" in result.charts_rendered
    assert "upcoming_suspension_expiries" not in result.charts_empty
    page = output.read_text(encoding="utf-8")
    assert "no data:" not in page
    assert "ended 23 days ago" in page and "ended 6 days ago" in page
    # the two rows' status cells and the caption
    assert page.count("suspension expired; status after expiry unconfirmed") == 3
    assert "2 expired (shaded), 0 upcoming" in page
    assert "as-of date (2026-12-03" in page


def test_report_opens_in_headless_chromium(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(CI does); this test never runs `playwright install`"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    result, _ = _render(tmp_path, empty=("mart_upcoming_suspension_expiries",))
    expected = len(result.charts_rendered)
    assert expected == len(CHARTS) - 1

    problems: list[str] = []
    network: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})

            def block_network(route):
                if not route.request.url.startswith("file:"):
                    network.append(route.request.url)
                    route.abort()
                else:
                    route.continue_()

            context.route("**/*", block_network)
            page = context.new_page()
            page.on(
                "console",
                lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.goto(result.path.as_uri(), wait_until="load")
            page.wait_for_function(
                "n => [...document.querySelectorAll('.plotly-graph-div')]"
                ".filter(d => d.querySelector('.main-svg')).length >= n",
                arg=expected,
                timeout=30_000,
            )
            graph_divs = page.locator(".plotly-graph-div").count()
            rendered = page.eval_on_selector_all(
                ".plotly-graph-div", "divs => divs.filter(d => d.querySelector('.main-svg')).length"
            )
            no_data = page.locator(".no-data").count()
            titles = page.locator("section.chart h2").all_inner_texts()
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()

    assert problems == []
    assert network == [], "the page must open offline"
    assert graph_divs == rendered == expected
    assert no_data == 1
    assert titles == [chart.title for chart in CHARTS]
    assert SCREENSHOT.stat().st_size > 10_000
