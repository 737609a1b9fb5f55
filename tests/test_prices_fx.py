"""Price sheet and FX parsers on real-format fixtures."""

import polars as pl
from conftest import FIXTURES

from dagster_project.sources import fx, prices
from dagster_project.sources.contract import REJECT_REASON


def test_price_sheet_keeps_declared_basis_currency_unit_and_purity():
    typed = prices.normalise(prices.read(FIXTURES / "prices" / "price_sheet_traps.csv"))
    good = typed.filter(pl.col(REJECT_REASON).is_null())
    assert good.height == 4
    first = good.row(0, named=True)
    assert (first["basis"], first["currency"], first["unit"], first["purity"]) == (
        "exw_china_vat_incl",
        "CNY",
        "t",
        "99.5%",
    )
    assert (first["price_low"], first["price_high"], first["period"]) == (1550000.0, 1570000.0, "2025-12")


def test_price_sheet_bad_rows_are_quarantined_with_reasons():
    typed = prices.normalise(prices.read(FIXTURES / "prices" / "price_sheet_traps.csv"))
    assert typed.filter(pl.col(REJECT_REASON).is_not_null())[REJECT_REASON].to_list() == [
        "low is above high",
        "unknown basis spot_moon",
        "date 2025-13-05 is not yyyy-mm-dd",
        "low is missing or not a number",
    ]


def test_fx_rates_and_bad_rates():
    typed = fx.normalise(fx.read(FIXTURES / "fx" / "fx_traps.csv"))
    good = typed.filter(pl.col(REJECT_REASON).is_null())
    assert good.filter(pl.col("currency") == "CNY")["per_usd"].sort().to_list() == [7.0, 7.1, 7.2, 7.3]
    assert typed.filter(pl.col(REJECT_REASON).is_not_null())[REJECT_REASON].to_list() == [
        "per_usd is not positive",
        "per_usd is missing or not a number",
    ]
