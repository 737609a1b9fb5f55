"""Benchmark price assessments: the documented vendor-neutral price sheet.

`date,source,product,element,form,purity,basis,currency,unit,low,high`. Bases differ (China
ex-works in CNY including 13 % VAT, FOB China in USD, CIF Europe, ...): they are kept as declared
here, and normalised to USD/kg without VAT in dbt (`fct_prices`). Low and high are both kept,
and purity stays textual ("99.5%", "4N").
"""

from __future__ import annotations

import datetime
from pathlib import Path

import polars as pl

from dagster_project.lib import reference
from dagster_project.sources.contract import REJECT_REASON, Expectation, SourceSpec
from dagster_project.sources.rules import (
    finish,
    first_reason,
    formula_rules,
    implausible,
    not_a_number,
    to_number,
)
from dagster_project.sources.textio import read_csv_strings, require_suffix

NAME = "prices"
SUFFIXES = (".csv",)
REQUIRED = [
    "date",
    "source",
    "product",
    "element",
    "form",
    "purity",
    "basis",
    "currency",
    "unit",
    "low",
    "high",
]
BASES = ["exw_china_vat_incl", "fob_china", "cif_europe", "ddp_china", "cif_north_america"]
UNITS = ["kg", "t"]
CURRENCIES = ["USD", "CNY", "EUR"]
FORMS = ["oxide", "metal", "alloy", "carbonate", "chloride", "fluoride", "concentrate", "magnet"]
# Text fields: a formula-like cell quarantines the row (`rules.formula_rules`).
TEXT_FIELDS = ("source", "product", "element", "form", "purity", "basis", "currency", "unit")
# The dearest rare-earth products cost tens of millions of CNY per tonne; a thousand million per
# unit (kg or t, in any of the currencies) is a scale or keying error.
MAX_PRICE = 1e9
# Mixtures priced as one product (didymium oxide, NdPr metal).
ELEMENT_MIXES = ["NdPr", "PrNd", "REO"]

LANDING_SCHEMA: dict[str, pl.DataType] = {
    "price_date": pl.Date,
    "period": pl.String,
    "price_source": pl.String,
    "product": pl.String,
    "element": pl.String,
    "form": pl.String,
    "purity": pl.String,
    "basis": pl.String,
    "currency": pl.String,
    "unit": pl.String,
    "price_low": pl.Float64,
    "price_high": pl.Float64,
}
# One assessment per source, product, basis and day in a file (the revision key too).
RECORD_KEY = ["price_source", "product", "basis", "price_date"]


def read(path: Path) -> pl.DataFrame:
    require_suffix(path, SUFFIXES, "prices take .csv")
    return read_csv_strings(path, REQUIRED)


def normalise(raw: pl.DataFrame) -> pl.DataFrame:
    elements = sorted(reference.element_symbols()) + ELEMENT_MIXES
    today = datetime.date.today()
    typed = raw.with_columns(
        pl.col("date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False).alias("price_date"),
        pl.col("source").str.strip_chars().alias("price_source"),
        pl.col("product").str.strip_chars(),
        pl.col("element").str.strip_chars(),
        pl.col("form").str.strip_chars().str.to_lowercase(),
        pl.col("purity").str.strip_chars(),
        pl.col("basis").str.strip_chars().str.to_lowercase(),
        pl.col("currency").str.strip_chars().str.to_uppercase(),
        pl.col("unit").str.strip_chars().str.to_lowercase(),
        to_number("low").alias("price_low"),
        to_number("high").alias("price_high"),
    ).with_columns(pl.col("price_date").dt.strftime("%Y-%m").alias("period"))
    reason = first_reason(
        *formula_rules(*TEXT_FIELDS),
        (
            pl.col("price_date").is_null(),
            pl.format("date {} is not yyyy-mm-dd", pl.col("date").fill_null("<missing>")),
        ),
        (
            ~pl.col("price_date").is_between(datetime.date(1990, 1, 1), today),
            "date out of range (1990 to today)",
        ),
        (pl.col("price_source").is_null() | (pl.col("price_source") == ""), "source is missing"),
        (pl.col("product").is_null() | (pl.col("product") == ""), "product is missing"),
        (
            ~pl.col("element").is_in(elements),
            pl.format("unknown element {}", pl.col("element").fill_null("<missing>")),
        ),
        (
            ~pl.col("form").is_in(FORMS),
            pl.format("unknown form {}", pl.col("form").fill_null("<missing>")),
        ),
        (
            ~pl.col("basis").is_in(BASES),
            pl.format("unknown basis {}", pl.col("basis").fill_null("<missing>")),
        ),
        (
            ~pl.col("currency").is_in(CURRENCIES),
            pl.format("unknown currency {}", pl.col("currency").fill_null("<missing>")),
        ),
        (
            ~pl.col("unit").is_in(UNITS),
            pl.format("unknown unit {} (kg or t)", pl.col("unit").fill_null("<missing>")),
        ),
        (not_a_number("low") | pl.col("price_low").is_null(), "low is missing or not a number"),
        (not_a_number("high") | pl.col("price_high").is_null(), "high is missing or not a number"),
        ((pl.col("price_low") <= 0) | (pl.col("price_high") <= 0), "price is not positive"),
        (pl.col("price_low") > pl.col("price_high"), "low is above high"),
        (implausible(pl.col("price_high"), MAX_PRICE), "price is implausibly large (over 1e9 per unit)"),
    )
    return finish(typed.with_columns(reason.alias(REJECT_REASON)), LANDING_SCHEMA, raw)


def suite() -> list[Expectation]:
    return [
        ("ExpectTableColumnsToMatchSet", {"column_set": list(LANDING_SCHEMA), "exact_match": True}),
        *[
            ("ExpectColumnValuesToNotBeNull", {"column": c})
            for c in (
                "price_date",
                "price_source",
                "product",
                "element",
                "basis",
                "price_low",
                "price_high",
            )
        ],
        ("ExpectColumnValuesToBeInSet", {"column": "basis", "value_set": BASES}),
        ("ExpectColumnValuesToBeInSet", {"column": "currency", "value_set": CURRENCIES}),
        ("ExpectColumnValuesToBeInSet", {"column": "unit", "value_set": UNITS}),
        (
            "ExpectColumnValuesToBeBetween",
            {"column": "price_low", "strict_min": True, "min_value": 0},
        ),
        (
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": "price_high", "column_B": "price_low", "or_equal": True},
        ),
        ("ExpectCompoundColumnsToBeUnique", {"column_list": RECORD_KEY}),
    ]


SPEC = SourceSpec(
    name=NAME,
    read=read,
    normalise=normalise,
    suite=suite,
    landing_schema=LANDING_SCHEMA,
    revision_key=("price_source", "product", "basis", "price_date"),
    description="vendor-neutral price sheet CSV",
)
