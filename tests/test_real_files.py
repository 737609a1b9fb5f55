"""Real agency files (`../shared/real/`, PROVENANCE.md): each lands or is refused for its real reason.

The files are read where they are (copied only into a temporary inbox, never into the
repository); the module is skipped when the folder is absent. Every figure asserted here was read
by hand from the file (or from PROVENANCE.md's cross-checks), not from the parser: a parser change
that breaks real bytes fails here. USGS files are tested elsewhere.
"""

from __future__ import annotations

import csv
import datetime
import os
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import REAL_DIR

from dagster_project.ingest import landing
from dagster_project.ingest.landing import ingest_source
from dagster_project.settings import Lake
from dagster_project.sources import SOURCES, comtrade, fx, gacc, gacc_files

REAL = REAL_DIR
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"no real agency files at {REAL}")

ECB = REAL / "ecb" / "eurofxref-hist.csv"
GACC_FILES = {  # file → (inbox folder, data lines counted with `wc -l` minus the header)
    "soybean_2023.gbk.csv": ("imports", 40),
    "soybean_2024in.gbk.csv": ("imports", 36),
    "soybean_2024out.gbk.csv": ("exports", 29),
    "soybean_2025in.gbk.csv": ("imports", 28),
    "soybean_2025out.gbk.csv": ("exports", 23),
}
COMTRADE_TOTAL = REAL / "comtrade" / "comtradr_C_A_HS_CHN_2010_TOTAL_body_extracted.json"
COMTRADE_TOTAL_PRETTY = REAL / "comtrade" / "comtradr_httptest2_C_A_HS_CHN_2010_TOTAL_pretty.json"
COMTRADE_LISTING = REAL / "comtrade" / "comtradr_httptest2_bulk_v1_C_A_HS_listing_pretty.json"
COMTRADE_DERIVED = REAL / "comtrade" / "derived" / "cmmdata_heavy_ree_trade_data.csv"
CENSUS_DERIVED = REAL / "census" / "derived_census_hs6_imports_2020_seafood_flattened.csv"
KOMIS = REAL / "prices" / "komis_scraped_prices.json"
OXIDE_CNY = REAL / "prices" / "rare_earth_oxide_daily_cny_2013.csv"


def _ingest(workspace, source: str, *files: tuple[Path, str]) -> dict[str, landing.FileLoad]:
    """Places each real file in the temporary inbox (under `folder`) and lands the source."""
    for path, folder in files:
        target = workspace["inbox"] / source / folder / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    report = ingest_source(SOURCES[source], inbox_dir=workspace["inbox"], lake_dir=workspace["lake"])
    loads = {load.source_file: load for load in report.loads}
    for load in loads.values():
        assert load.rows_read == load.rows_landed + load.rows_quarantined + load.rows_out_of_scope
    return loads


def _counts(load: landing.FileLoad) -> tuple:
    return (load.status, load.rows_read, load.rows_landed, load.rows_quarantined, load.rows_out_of_scope)


def _landed(workspace, source: str) -> pl.DataFrame:
    return pl.read_parquet(workspace["lake"] / "raw" / source / "**" / "*.parquet")


# --- ECB ------------------------------------------------------------------------------------------


def test_ecb_history_lands_and_its_missing_quotes_are_out_of_scope(workspace):
    (load,) = _ingest(workspace, "fx", (ECB, "")).values()
    # 6,747 days × 8 used currencies; N/A: CNY 1,599 days (1999-01-04 to 2005-03-31), INR 2,560.
    assert _counts(load) == ("landed", 53_976, 49_817, 0, 4_159)
    assert load.out_of_scope_reasons == {"no rate quoted (N/A)": 4_159}
    assert load.gx_success is True
    assert not (workspace["lake"] / "quarantine" / "fx" / f"{load.load_id}.parquet").exists()
    kept = pl.read_parquet(Lake(workspace["lake"]).out_of_scope_file("fx", load.load_id))
    cny = kept.filter(pl.col("currency") == "CNY")
    assert cny.height == 1_599
    assert (cny["date"].min(), cny["date"].max()) == ("1999-01-04", "2005-03-31")
    assert kept.filter(pl.col("currency") == "INR").height == 2_560

    rates = _landed(workspace, "fx")
    assert rates.height == 49_817

    def rate(day: str, currency: str) -> float:
        (value,) = rates.filter(
            (pl.col("rate_date") == datetime.date.fromisoformat(day)) & (pl.col("currency") == currency)
        )["per_usd"]
        return value

    # PROVENANCE.md: 2024-12-31 USD 1.0389, CNY 7.5833 (7.2994 CNY per USD)
    assert rate("2024-12-31", "CNY") == pytest.approx(7.5833 / 1.0389)
    assert round(rate("2024-12-31", "CNY"), 4) == 7.2994
    assert rate("2025-01-02", "CNY") == pytest.approx(7.5338 / 1.0321)
    assert rate("2025-05-09", "EUR") == pytest.approx(1 / 1.1252)
    assert rate("2025-05-09", "CNY") == pytest.approx(8.1470 / 1.1252)
    # The first CNY quote: 2005-04-01.
    first_cny = rates.filter(pl.col("currency") == "CNY")["rate_date"].min()
    assert first_cny == datetime.date(2005, 4, 1)
    # Monthly means of daily CNY per USD (PROVENANCE.md): 2023-12 7.1422 over 19 days, 2024-11
    # 7.2081 over 21, 2025-04 7.2990 over 20.
    monthly = dict(
        rates.filter(pl.col("currency") == "CNY")
        .group_by("period")
        .agg(pl.col("per_usd").mean().round(4), pl.len())
        .select("period", pl.struct("per_usd", "len"))
        .rows()
    )
    assert monthly["2023-12"] == {"per_usd": 7.1422, "len": 19}
    assert monthly["2024-11"] == {"per_usd": 7.2081, "len": 21}
    assert monthly["2025-04"] == {"per_usd": 7.2990, "len": 20}


def test_ecb_history_cells_match_the_file_read_with_the_csv_module():
    """The cross rate of every used currency on one day, recomputed from the raw cells."""
    with open(ECB, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, day = rows[0], next(row for row in rows if row[0] == "2020-03-16")
    cell = dict(zip(header, day, strict=True))
    typed = fx.normalise(fx.read(ECB)).filter(pl.col("rate_date") == datetime.date(2020, 3, 16))
    got = dict(typed.select("currency", "per_usd").rows())
    usd = float(cell["USD"])
    assert got == pytest.approx(
        {c: (1 / usd if c == "EUR" else float(cell[c]) / usd) for c in fx.ECB_CURRENCIES}
    )


# --- GACC -----------------------------------------------------------------------------------------


def test_gacc_soybean_exports_land_with_every_line_out_of_scope(workspace):
    loads = _ingest(
        workspace, "gacc", *[(REAL / "gacc" / name, folder) for name, (folder, _) in GACC_FILES.items()]
    )
    for name, (folder, lines) in GACC_FILES.items():
        load = loads[f"gacc/{folder}/{name}"]
        assert _counts(load) == ("landed", lines, 0, 0, lines), name
        assert load.out_of_scope_reasons == {"not a rare-earth product line": lines}
        assert load.message.endswith("no row of this file is in the product's scope")
    assert not (workspace["lake"] / "quarantine" / "gacc").exists() or not list(
        (workspace["lake"] / "quarantine" / "gacc").iterdir()
    )


def test_gacc_real_bytes_parse_cny_and_kg_of_a_row():
    """GBK, every field quoted, a trailing comma, `?` as the second unit, thousands separators."""
    path = REAL / "gacc" / "soybean_2024in.gbk.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the trap is there: GBK, not UTF-8
    copy = Path(os.environ.get("TMPDIR", "/tmp")) / f"ree-real-{os.getpid()}" / "imports" / path.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, copy)
    try:
        typed = gacc.normalise(gacc.read(copy))
    finally:
        shutil.rmtree(copy.parent.parent, ignore_errors=True)
    assert typed.height == 36
    # 202401 imports from 美国 (502) of 12019019: 3,325,975,236 kg, CNY 13,615,477,348.
    row = typed.filter(
        (pl.col("period") == "2024-01")
        & (pl.col("partner_code") == "502")
        & (pl.col("product_code") == "12019019")
    ).row(0, named=True)
    assert (row["flow"], row["partner_iso3"], row["currency"]) == ("import", "USA", "CNY")
    assert row["net_weight_kg"] == 3_325_975_236
    assert row["value"] == 13_615_477_348
    assert row["quantity_2"] == 0 and row["unit_2"] == "?"
    assert set(typed["product_code"]) == {"12019019", "12011000"}
    assert typed["_out_of_scope"].unique().to_list() == ["not a rare-earth product line"]
    assert typed["_reject_reason"].null_count() == 36


def test_gacc_real_bytes_with_a_rare_earth_code_land_that_row(workspace):
    """The same real export with one line's code changed to neodymium metal (28053011): that row
    lands with the file's CNY and kg, the soybean lines stay out of scope."""
    data = (REAL / "gacc" / "soybean_2024in.gbk.csv").read_bytes()
    line = '"202401","502","美国","12019019"'.encode("gb18030")
    assert data.count(line) == 1
    edited = data.replace(line, '"202401","502","美国","28053011"'.encode("gb18030"))
    target = workspace["inbox"] / "gacc" / "imports" / "soybean_2024in_one_ree_line.gbk.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(edited)
    (load,) = ingest_source(SOURCES["gacc"], inbox_dir=workspace["inbox"], lake_dir=workspace["lake"]).loads
    assert _counts(load) == ("landed", 36, 1, 0, 35)
    (row,) = _landed(workspace, "gacc").to_dicts()
    assert (row["period"], row["partner_iso3"], row["product_code"]) == ("2024-01", "USA", "28053011")
    assert (row["net_weight_kg"], row["value"], row["currency"]) == (3_325_975_236, 13_615_477_348, "CNY")


def test_gacc_real_export_outside_an_imports_or_exports_folder_is_refused(workspace):
    loads = _ingest(workspace, "gacc", (REAL / "gacc" / "soybean_2023.gbk.csv", ""))
    load = loads["gacc/soybean_2023.gbk.csv"]
    assert _counts(load) == ("rejected", 0, 0, 0, 0)
    assert load.message == (
        "gacc/soybean_2023.gbk.csv: no flow: a GACC export has no flow column, so the flow comes "
        f"from where the file is; {gacc_files.WHERE_TO_PUT_IT}"
    )


# --- Comtrade -------------------------------------------------------------------------------------


def test_comtrade_total_responses_land_with_every_record_out_of_scope(workspace):
    loads = _ingest(workspace, "comtrade", (COMTRADE_TOTAL, ""), (COMTRADE_TOTAL_PRETTY, ""))
    for name in (COMTRADE_TOTAL.name, COMTRADE_TOTAL_PRETTY.name):
        load = loads[f"comtrade/{name}"]
        assert _counts(load) == ("landed", 4, 0, 0, 4), name
        assert load.out_of_scope_reasons == {"cmdCode TOTAL (all commodities)": 4}
    # The values are read right even though the records are out of scope (PROVENANCE.md), and
    # both recordings (different record order) give the same records.
    by_file = []
    for path in (COMTRADE_TOTAL, COMTRADE_TOTAL_PRETTY):
        typed = comtrade.normalise(comtrade.read(path))
        by_file.append(
            sorted(typed.select("flow_code", "partner_iso3", "primary_value_usd", "net_weight_kg").rows())
        )
    assert (
        by_file[0]
        == by_file[1]
        == [
            ("M", "ARG", 6_804_128_143.0, None),
            ("M", "DEU", 74_251_272_075.0, None),
            ("X", "ARG", 6_115_764_185.0, None),
            ("X", "DEU", 68_047_133_397.0, None),
        ]
    )


def test_comtrade_bulk_listing_is_refused_as_not_trade_data(workspace):
    load = _ingest(workspace, "comtrade", (COMTRADE_LISTING, ""))[f"comtrade/{COMTRADE_LISTING.name}"]
    assert _counts(load) == ("rejected", 0, 0, 0, 0)
    assert load.message.startswith(
        f"comtrade/{COMTRADE_LISTING.name}: missing required column(s) refYear, refMonth, flowCode, "
        "partnerCode, cmdCode, primaryValue; found fileUrl, fileSize,"
    )


def test_comtrade_pandas_dump_lands_hs6_and_quarantines_hs4(workspace):
    load = _ingest(workspace, "comtrade", (COMTRADE_DERIVED, ""))[f"comtrade/{COMTRADE_DERIVED.name}"]
    # 80 records: 40 of HS6 280530 land; 40 of HS4 2846 are rare-earth figures at a level the
    # marts cannot use, so they are quarantined (not out of scope).
    assert _counts(load) == ("landed", 80, 40, 40, 0)
    quarantine = pl.read_parquet(workspace["lake"] / "quarantine" / "comtrade" / f"{load.load_id}.parquet")
    assert quarantine["_reject_reason"].unique().to_list() == ["cmdCode 2846 is not an HS6 code"]
    landed = _landed(workspace, "comtrade")
    assert landed["cmd_code"].unique().to_list() == ["280530"]

    def value(reporter: str, partner: str, flow: str, year: int) -> tuple:
        return (
            landed.filter(
                (pl.col("reporter_iso3") == reporter)
                & (pl.col("partner_iso3") == partner)
                & (pl.col("flow_code") == flow)
                & (pl.col("ref_year") == year)
            )
            .select("primary_value_usd", "net_weight_kg")
            .rows()
        )

    # PROVENANCE.md cross-checks (HS 280530): USA ← China 2023 21,816,502 USD (396,967 kg),
    # 2024 3,672,400 (68,353 kg); China → World 2023 234,791,505.
    assert value("USA", "CHN", "M", 2023) == [(21_816_502.0, 396_967.0)]
    assert value("USA", "CHN", "M", 2024) == [(3_672_400.0, 68_353.0)]
    assert value("CHN", "WLD", "X", 2023)[0][0] == 234_791_505.0


# --- Census and prices: refused, for their real reasons ------------------------------------------


def test_census_flattened_csv_is_refused_as_not_an_api_response(workspace):
    load = _ingest(workspace, "census", (CENSUS_DERIVED, "imports"))[f"census/imports/{CENSUS_DERIVED.name}"]
    assert _counts(load) == ("rejected", 0, 0, 0, 0)
    assert load.message == (
        f"census/imports/{CENSUS_DERIVED.name}: unsupported file type '.csv'; "
        "census takes .json (the API response saved as is)"
    )


def test_price_files_in_their_authors_formats_are_refused(workspace):
    loads = _ingest(workspace, "prices", (KOMIS, ""), (OXIDE_CNY, ""))
    komis, oxide = loads[f"prices/{KOMIS.name}"], loads[f"prices/{OXIDE_CNY.name}"]
    assert _counts(komis) == _counts(oxide) == ("rejected", 0, 0, 0, 0)
    assert komis.message == f"prices/{KOMIS.name}: unsupported file type '.json'; prices take .csv"
    assert oxide.message.startswith(
        f"prices/{OXIDE_CNY.name}: missing required column(s) date, source, product, element, form, "
        "purity, basis, currency, unit, low, high; found 日期, 氧化钕最低价,"
    )
