"""Exchange rates: the documented `date,currency,per_usd` CSV (units of currency per US dollar).

Monthly customs values in CNY or EUR use the month's average rate; a price on a date uses that
date's rate or the latest earlier one. Both rules live in dbt (`int_fx__*`).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import polars as pl

from dagster_project.sources.base import (
    REJECT_REASON,
    ROW_NUMBER,
    Expectation,
    SourceFileError,
    SourceSpec,
    data_suffix,
    first_reason,
    not_a_number,
    read_csv_strings,
    to_number,
)

NAME = "fx"
REQUIRED = ["date", "currency", "per_usd"]

LANDING_SCHEMA: dict[str, pl.DataType] = {
    "rate_date": pl.Date,
    "period": pl.String,
    "currency": pl.String,
    "per_usd": pl.Float64,
}


def read(path: Path) -> pl.DataFrame:
    if data_suffix(path) != ".csv":
        raise SourceFileError(path, f"unsupported file type {data_suffix(path)!r}; fx takes .csv")
    return read_csv_strings(path, REQUIRED)


def normalise(raw: pl.DataFrame) -> pl.DataFrame:
    today = datetime.date.today()
    typed = (
        raw.rename({"per_usd": "_per_usd_text"})
        .with_columns(
            pl.col("date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False).alias("rate_date"),
            pl.col("currency").str.strip_chars().str.to_uppercase(),
            to_number("_per_usd_text").alias("per_usd"),
        )
        .with_columns(pl.col("rate_date").dt.strftime("%Y-%m").alias("period"))
    )
    reason = first_reason(
        (
            pl.col("rate_date").is_null(),
            pl.format("date {} is not yyyy-mm-dd", pl.col("date").fill_null("<missing>")),
        ),
        (
            ~pl.col("rate_date").is_between(datetime.date(1990, 1, 1), today),
            "date out of range (1990 to today)",
        ),
        (~pl.col("currency").str.contains(r"^[A-Z]{3}$"), "currency is not a 3-letter ISO code"),
        (
            not_a_number("_per_usd_text") | pl.col("per_usd").is_null(),
            "per_usd is missing or not a number",
        ),
        (pl.col("per_usd") <= 0, "per_usd is not positive"),
    )
    return (
        typed.with_columns(reason.alias(REJECT_REASON))
        .select(ROW_NUMBER, *LANDING_SCHEMA, REJECT_REASON)
        .cast(LANDING_SCHEMA)
    )  # type: ignore[arg-type]


def suite() -> list[Expectation]:
    return [
        ("ExpectTableColumnsToMatchSet", {"column_set": list(LANDING_SCHEMA), "exact_match": True}),
        *[("ExpectColumnValuesToNotBeNull", {"column": c}) for c in LANDING_SCHEMA],
        ("ExpectColumnValuesToMatchRegex", {"column": "currency", "regex": r"^[A-Z]{3}$"}),
        (
            "ExpectColumnValuesToBeBetween",
            {"column": "per_usd", "strict_min": True, "min_value": 0},
        ),
        ("ExpectCompoundColumnsToBeUnique", {"column_list": ["currency", "rate_date"]}),
    ]


SPEC = SourceSpec(
    name=NAME,
    suffixes=(".csv",),
    read=read,
    normalise=normalise,
    suite=suite,
    landing_schema=LANDING_SCHEMA,
    revision_key=("currency", "rate_date"),
    description="date,currency,per_usd CSV",
)
