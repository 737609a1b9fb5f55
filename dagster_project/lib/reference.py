"""Reference data the parsers need (known products, countries, areas), read from the dbt seeds.

The seeds are the single copy of these facts: dbt loads them into the warehouse, and ingest reads
the same CSV files to decide which rows are unknown and go to quarantine.
"""

from __future__ import annotations

import functools
from pathlib import Path

import polars as pl

from dagster_project.settings import SEEDS_DIR

_TEXT_COLUMNS = ["product_code", "hs6", "census_code", "gacc_code", "comtrade_iso", "m49"]


@functools.cache
def _seed(path: Path, mtime: float) -> pl.DataFrame:
    header = pl.read_csv(path, n_rows=0).columns
    overrides = {c: pl.String for c in _TEXT_COLUMNS if c in header}
    return pl.read_csv(path, schema_overrides=overrides)


def seed(name: str) -> pl.DataFrame:
    path = SEEDS_DIR / f"{name}.csv"
    return _seed(path, path.stat().st_mtime)


def products(source: str, classifications: tuple[str, ...] | None = None) -> pl.DataFrame:
    """(product_code, valid_from_year, valid_to_year) of the tariff lines known for a source.

    `classifications` limits them to lines of those code lists (column `classification`): US
    Census imports are HTS lines, exports Schedule B lines, and the two are not the same list.
    """
    lines = seed("products").filter(pl.col("source") == source)
    if classifications is not None:
        lines = lines.filter(pl.col("classification").is_in(list(classifications)))
    return lines.select("product_code", "valid_from_year", "valid_to_year")


# HS heading 28.46 is wholly rare earths ("compounds, inorganic or organic, of rare-earth metals, of
# yttrium or of scandium"): any code under it is a rare-earth line, known to the seed or not.
REE_HS4 = ("2846",)


def ree_code_prefixes(source: str) -> tuple[str, ...]:
    """The code starts that make a tariff line a rare-earth line: the HS6 headings of the source's
    lines in the products seed (column hs6), and the wholly rare-earth HS4 heading 2846. A line
    that starts with none of them (soybeans 1201…, `TOTAL`) is outside the product's scope: counted
    apart, not quarantined; one that does but is not in the seed is an unknown product code."""
    headings = seed("products").filter(pl.col("source") == source)["hs6"].to_list()
    return tuple(sorted(set(headings) | set(REE_HS4)))


def countries() -> pl.DataFrame:
    return seed("countries").select(
        "iso3", pl.col("m49").cast(pl.Int64, strict=False).alias("m49"), "is_aggregate"
    )


def comtrade_areas() -> pl.DataFrame:
    return seed("comtrade_areas").select(pl.col("m49").cast(pl.Int64).alias("m49"), "kind")


def element_symbols() -> set[str]:
    return set(seed("elements")["symbol"].to_list())
