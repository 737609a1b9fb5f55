"""Exchange rates: the documented `date,currency,per_usd` CSV (units of currency per US dollar), and
the ECB euro reference-rate history CSV (`eurofxref-hist.csv`), recognised by its header.

The ECB file is wide and EUR-based: `Date,USD,JPY,BGN,…,CNY,…`, one row per TARGET business day,
newest first, each cell the units of that currency per 1 EUR, `N/A` where the currency was not
quoted, and usually a trailing comma that makes an empty last column. `read` turns it into the long
raw shape of the documented CSV, with cross rates through the USD column: EUR per USD = 1 / USD,
X per USD = X / USD. Only the currencies in `ECB_CURRENCIES` are produced; the ECB's other columns
(BGN, CZK, the legacy CYP, EEK, …) are ignored, as columns, so they are not rows and are neither
landed nor counted. A used currency whose column is absent from the file is not produced either.
The ECB's one-day `eurofxref.csv` (`Date, USD, …` with spaces and dates like `10 January 2025`) is
read the same way.

Row rules on ECB rows. A missing quote is not a bad row: it is a day the ECB did not quote that
currency (CNY is `N/A` until 2005-03-31, 4,159 cells in the real `eurofxref-hist.csv`), so it is
counted out of scope (`_out_of_scope`), never quarantined: a day whose USD cell is `N/A` or empty
gives every row of that day "no USD rate quoted that day (N/A)", a used currency's `N/A` or
empty cell "no rate quoted (N/A)". A cell that is there but wrong is quarantined: a USD cell that
is not a positive number ("USD rate 1.03O4 is not a positive number", every row of that day), a
quote that is not a number, a bad date. `_source_row` stays tied to the file: it is
`data row × 1000 + CSV column number` (row 1 is the first line under the header; column 1 is
`Date`, so a EUR row, computed from the USD cell, ends in 002). In the documented CSV it is the
data row number. `rate_source` says which: `ecb_cross` or `declared`.

Monthly customs values in CNY or EUR use the month's average rate; a price on a date uses that
date's rate or the latest earlier one. Both rules live in dbt (`int_fx__*`).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import polars as pl

from dagster_project.sources.contract import (
    ROW_NUMBER,
    Expectation,
    SourceFileError,
    SourceSpec,
)
from dagster_project.sources.rules import (
    finish,
    first_reason,
    formula_rules,
    not_a_number,
    split_scope,
    to_number,
)
from dagster_project.sources.textio import data_suffix, open_head, read_csv_strings, require_suffix

NAME = "fx"
SUFFIXES = (".csv",)
REQUIRED = ["date", "currency", "per_usd"]
ECB_DATE = "Date"
ECB_USD = "USD"
# Currencies taken from an ECB file. EUR comes from the USD column itself.
ECB_CURRENCIES = ("EUR", "CNY", "JPY", "GBP", "KRW", "INR", "AUD", "CAD")
# `_source_row` of an ECB row = data row × this + CSV column number.
ECB_ROW_FACTOR = 1000
RATE_SOURCES = ["ecb_cross", "declared"]
NOT_QUOTED = ("", "N/A", "NA")
# Out of scope, not quarantined: the ECB published no quote (the reasons of `_out_of_scope`).
NO_USD_QUOTE = "no USD rate quoted that day (N/A)"
NO_QUOTE = "no rate quoted (N/A)"
SCOPE_REASONS = (NO_USD_QUOTE, NO_QUOTE)

LANDING_SCHEMA: dict[str, pl.DataType] = {
    "rate_date": pl.Date,
    "period": pl.String,
    "currency": pl.String,
    "per_usd": pl.Float64,
    "rate_source": pl.String,
}
# One rate per currency and day in a file (the revision key too).
RECORD_KEY = ["currency", "rate_date"]
# Raw columns that only an ECB file fills: the quote cell and the USD cell of that day, as declared.
_ECB_RAW = ["ecb_quote", "ecb_usd_per_eur"]


def read(path: Path) -> pl.DataFrame:
    hint = " (unzip eurofxref-hist.zip first)" if data_suffix(path) == ".zip" else ""
    require_suffix(path, SUFFIXES, f"fx takes .csv{hint}")
    # The layout is told by the header, read from the head of the file: junk and other layouts
    # are refused before the whole file is read.
    head = open_head(path, "CSV")
    header = head.columns
    if ECB_DATE in header and ECB_USD in header and "currency" not in header:
        return _read_ecb(path, head.read_text())
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SourceFileError(
            path,
            f"missing required column(s) {', '.join(missing)}; found {', '.join(header[:20])}; "
            "fx takes date,currency,per_usd or the ECB eurofxref-hist layout (Date,USD,JPY,…)",
        )
    frame = read_csv_strings(path, REQUIRED, text=head.read_text())
    return frame.with_columns(
        pl.lit("declared").alias("rate_source"),
        *[pl.lit(None, dtype=pl.String).alias(c) for c in _ECB_RAW],
    )


def _read_ecb(path: Path, text: str) -> pl.DataFrame:
    wide = read_csv_strings(path, [ECB_DATE, ECB_USD], text=text)
    columns = [c for c in wide.columns if c != ROW_NUMBER]
    if len(columns) >= ECB_ROW_FACTOR:
        raise SourceFileError(path, f"{len(columns)} columns: too many for an ECB reference-rate file")
    # CSV column numbers as a spreadsheet shows them (Date is 1), so `_source_row` points at a cell.
    position = {name: number for number, name in enumerate(columns, start=1)}
    wide = wide.with_columns(pl.col(c).str.strip_chars() for c in columns)
    parts = []
    for currency in ECB_CURRENCIES:
        cell = ECB_USD if currency == "EUR" else currency
        if cell not in position:
            continue
        parts.append(
            wide.select(
                (pl.col(ROW_NUMBER) * ECB_ROW_FACTOR + position[cell]).alias(ROW_NUMBER),
                pl.col(ECB_DATE).alias("date"),
                pl.lit(currency).alias("currency"),
                pl.lit(None, dtype=pl.String).alias("per_usd"),
                pl.lit("ecb_cross").alias("rate_source"),
                (pl.lit(None, dtype=pl.String) if currency == "EUR" else pl.col(cell)).alias("ecb_quote"),
                pl.col(ECB_USD).alias("ecb_usd_per_eur"),
            )
        )
    # File order: day by day (newest first, as the ECB writes), then column.
    return pl.concat(parts).sort(ROW_NUMBER)


def normalise(raw: pl.DataFrame) -> pl.DataFrame:
    today = datetime.date.today()
    ecb = pl.col("rate_source") == "ecb_cross"
    usd = to_number("ecb_usd_per_eur")
    quote = to_number("ecb_quote")
    usd_missing = pl.col("ecb_usd_per_eur").is_null() | pl.col("ecb_usd_per_eur").is_in(NOT_QUOTED)
    quote_missing = (pl.col("currency") != "EUR") & (
        pl.col("ecb_quote").is_null() | pl.col("ecb_quote").is_in(NOT_QUOTED)
    )
    date_text = pl.col("date").str.strip_chars()
    typed = (
        raw.rename({"per_usd": "_per_usd_text"})
        .with_columns(
            pl.coalesce(
                date_text.str.to_date("%Y-%m-%d", strict=False),
                # The ECB's one-day file writes "10 January 2025".
                pl.when(ecb).then(date_text.str.to_date("%d %B %Y", strict=False)),
            ).alias("rate_date"),
            pl.col("currency").str.strip_chars().str.to_uppercase(),
            pl.when(ecb)
            .then(pl.when(pl.col("currency") == "EUR").then(1.0 / usd).otherwise(quote / usd))
            .otherwise(to_number("_per_usd_text"))
            .alias("per_usd"),
        )
        .with_columns(pl.col("rate_date").dt.strftime("%Y-%m").alias("period"))
    )
    reason = first_reason(
        *formula_rules("currency"),
        (
            pl.col("rate_date").is_null(),
            pl.format(
                "date {} is not yyyy-mm-dd",
                pl.col("date").fill_null("<missing>"),
            ),
        ),
        (
            ~pl.col("rate_date").is_between(datetime.date(1990, 1, 1), today),
            "date out of range (1990 to today)",
        ),
        (~pl.col("currency").str.contains(r"^[A-Z]{3}$"), "currency is not a 3-letter ISO code"),
        ((ecb & usd_missing).fill_null(False), NO_USD_QUOTE),
        (
            (ecb & ~(usd > 0)).fill_null(ecb),
            pl.format("USD rate {} is not a positive number", pl.col("ecb_usd_per_eur")),
        ),
        ((ecb & quote_missing).fill_null(False), NO_QUOTE),
        (
            (ecb & (pl.col("currency") != "EUR") & quote.is_null()).fill_null(False),
            pl.format("{} rate {} is not a number", pl.col("currency"), pl.col("ecb_quote")),
        ),
        (
            not_a_number("_per_usd_text") | pl.col("per_usd").is_null(),
            "per_usd is missing or not a number",
        ),
        (pl.col("per_usd") <= 0, "per_usd is not positive"),
    )
    return finish(typed.with_columns(split_scope(reason, SCOPE_REASONS)), LANDING_SCHEMA, raw)


def suite() -> list[Expectation]:
    return [
        ("ExpectTableColumnsToMatchSet", {"column_set": list(LANDING_SCHEMA), "exact_match": True}),
        *[("ExpectColumnValuesToNotBeNull", {"column": c}) for c in LANDING_SCHEMA],
        ("ExpectColumnValuesToMatchRegex", {"column": "currency", "regex": r"^[A-Z]{3}$"}),
        ("ExpectColumnValuesToBeInSet", {"column": "rate_source", "value_set": RATE_SOURCES}),
        (
            "ExpectColumnValuesToBeBetween",
            {"column": "per_usd", "strict_min": True, "min_value": 0},
        ),
        ("ExpectCompoundColumnsToBeUnique", {"column_list": RECORD_KEY}),
    ]


SPEC = SourceSpec(
    name=NAME,
    read=read,
    normalise=normalise,
    suite=suite,
    landing_schema=LANDING_SCHEMA,
    revision_key=("currency", "rate_date"),
    description="date,currency,per_usd CSV, or the ECB eurofxref-hist CSV (cross rates through USD)",
)
