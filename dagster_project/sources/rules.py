"""Row rules every source shares: numbers from text, the reject and scope reasons, the mass rule,
the products seed as a join table, and `finish`, the last step of every `normalise`.

Rules are polars expressions, so one rule runs the same on a file read whole and on one streamed
batch by batch.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from dagster_project.lib import reference
from dagster_project.sources.contract import (
    OUT_OF_SCOPE,
    RAGGED_FIELD,
    REJECT_REASON,
    ROW_NUMBER,
    Frame,
)


def to_number(column: str) -> pl.Expr:
    """A number from a string cell; null when empty. Non-numeric text becomes null too, and so do
    "NaN", "inf" and overflowing exponents ("1e400"): the caller's row rules turn 'present but not
    a number' into a quarantine reason."""
    value = pl.col(column).str.strip_chars().cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value)


def lookup(expr: pl.Expr, mapping: dict[str, Any], dtype: pl.DataType | None = None) -> pl.Expr:
    """`expr` mapped through a small dict, null when absent: `replace_strict(mapping, default=None)`
    as a when/then chain, which polars' streaming engine runs batch by batch (`replace_strict`
    collects the whole column first: measured 4.9 GB for a 10^7-row file)."""
    result: pl.Expr = pl.lit(None, dtype=dtype)
    for key, value in reversed(mapping.items()):
        result = pl.when(expr == key).then(pl.lit(value, dtype=dtype)).otherwise(result)
    return result


def trimmed(column: str) -> pl.Expr:
    """The cell's text without surrounding whitespace; an empty cell is null."""
    text = pl.col(column).str.strip_chars()
    return pl.when(text != "").then(text)


def not_a_number(column: str) -> pl.Expr:
    """Text in the cell that `to_number` cannot read."""
    text = pl.col(column).str.strip_chars()
    return text.is_not_null() & (text != "") & to_number(column).is_null()


# Plain digits, or digits grouped by thousands with commas; a dot only before the decimals (GACC's
# exports write "1,234,567"; "12,34" and "1.234.567" are another locale, not a number).
_GROUPED_NUMBER = r"^-?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$"


def grouped_number(column: str) -> pl.Expr:
    """A number from a cell such as "1,234,567" or "12.5"; null when empty or not a number."""
    text = pl.col(column).str.strip_chars()
    return pl.when(text.str.contains(_GROUPED_NUMBER)).then(text.str.replace_all(",", "").cast(pl.Float64))


def not_a_grouped_number(column: str) -> pl.Expr:
    """Text in the cell that `grouped_number` cannot read: "12,34", "1.234.567", "abc"."""
    text = pl.col(column).str.strip_chars()
    return text.is_not_null() & (text != "") & ~text.str.contains(_GROUPED_NUMBER)


def first_reason(*rules: tuple[pl.Expr, str | pl.Expr]) -> pl.Expr:
    """The first rule that a row breaks, as text; null when it breaks none.

    A rule whose condition is null (it could not be decided, usually because a value is
    missing) counts as broken: a row is landed only when every rule says it is good. Rules on
    optional columns therefore say `.fill_null(False)` themselves.
    """
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for condition, reason in reversed(rules):
        value = pl.lit(reason) if isinstance(reason, str) else reason.fill_null("invalid row")
        expr = pl.when(condition.fill_null(True)).then(value).otherwise(expr)
    return expr


# Spreadsheet formula injection (CSV injection): a cell that starts with one of these is run as a
# formula when the data is opened in Excel or LibreOffice (`=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)`).
FORMULA_REASON = "formula-like text in {}"
_FORMULA_START = r"^\s*[=+\-@]\s*\S"


def formula_like(column: str) -> pl.Expr:
    """Text that a spreadsheet would run as a formula: it starts (after leading whitespace, which
    is trimmed before landing) with = + - or @, is longer than that one character, and is not a
    plain number ("-12.5" and "+5" are numbers, not formulas)."""
    # One anchored regex (a sign, then something) instead of trimming and measuring each cell.
    return (pl.col(column).str.contains(_FORMULA_START) & to_number(column).is_null()).fill_null(False)


def formula_rules(*columns: str) -> list[tuple[pl.Expr, str]]:
    """The shared rule for text fields: a formula-like cell quarantines its row, with the column
    named in the reason. Rows are quarantined rather than neutralised (say with a leading quote),
    so that what lands is exactly what the source declared."""
    return [(formula_like(column), FORMULA_REASON.format(column)) for column in columns]


def implausible(value: pl.Expr, limit: float) -> pl.Expr:
    """A number so large it can only be a unit, scale or keying error (null counts as plausible)."""
    return (value > limit).fill_null(False)


def split_scope(reason: pl.Expr, scope_reasons: tuple[str, ...]) -> list[pl.Expr]:
    """The reason `first_reason` gave, split in two columns: a reason in `scope_reasons` (a
    well-formed row outside the product's scope) becomes `OUT_OF_SCOPE`, any other reason stays
    the `REJECT_REASON`. The rules placed before the scope rules win, so a row broken in a way
    they check (a bad date, a bad number) is quarantined, never counted out of scope. The scope
    reasons are fixed texts, so the load record counts rows per reason."""
    scoped = reason.is_in(list(scope_reasons))
    return [
        pl.when(~scoped).then(reason).alias(REJECT_REASON),
        pl.when(scoped).then(reason).alias(OUT_OF_SCOPE),
    ]


Rule = tuple[pl.Expr, str | pl.Expr]


def reasons_with_scope(rules: list[Rule], structural: list[Rule], scope_reason: pl.Expr) -> list[pl.Expr]:
    """`REJECT_REASON` and `OUT_OF_SCOPE` for a source whose scope is decided per line.

    `scope_reason` is a fixed text for a row outside the product's scope (null in scope), such as
    "not a rare-earth product line". A row in scope gets the first of all `rules` it breaks, as
    before. A row out of scope is checked only against the `structural` rules (a subset of
    `rules`: the row's own form, a number that is not a number, a period that is not a period),
    never against reference data it has no place in (a soybean line is not an unknown rare-earth
    product): it is quarantined when it breaks one, else counted out of scope."""
    full = first_reason(*rules)
    broken = first_reason(*structural)
    scoped = scope_reason.is_not_null()
    return [
        pl.when(scoped).then(broken).otherwise(full).alias(REJECT_REASON),
        pl.when(scoped & broken.is_null()).then(scope_reason).alias(OUT_OF_SCOPE),
    ]


# --- masses -------------------------------------------------------------------------------------


def mass_is_declared(quantity: pl.Expr, value: pl.Expr) -> pl.Expr:
    """Whether a declared quantity is a mass to land: a zero on a shipment with value is "not
    declared" (the declarant left it out), never 0 kg; a zero on a row of value 0 is a zero."""
    return (quantity > 0) | (value == 0)


def mass_kg(quantity: pl.Expr, unit: pl.Expr, value: pl.Expr, factors: dict[str, float]) -> pl.Expr:
    """Kilograms from a quantity in `unit` (`factors`: unit → kg; any other unit, a count or no
    unit, gives null), under the one rule of `mass_is_declared`."""
    factor = lookup(unit, factors, pl.Float64)
    return pl.when(factor.is_not_null() & mass_is_declared(quantity, value)).then(quantity * factor)


# --- reference data -----------------------------------------------------------------------------


def known_products(
    source: str, first_year: int, last_year: int, *, code: str = "product_code", year: str = "year"
) -> pl.LazyFrame:
    """(code, year) pairs the products seed covers for `source`, years clipped to
    `first_year`..`last_year`: a small table to join on (flag `_known_product`), instead of
    joining every row to every version of its code."""
    return (
        reference.products(source)
        .lazy()
        .select(
            pl.col("product_code").alias(code),
            pl.int_ranges(
                pl.max_horizontal("valid_from_year", pl.lit(first_year)),
                pl.min_horizontal("valid_to_year", pl.lit(last_year)) + 1,
                dtype=pl.Int32,
            ).alias(year),
        )
        .explode(year)
        .drop_nulls()
        .unique()
        .with_columns(pl.lit(True).alias("_known_product"))
    )


# --- the frame a source hands over ----------------------------------------------------------------


def numbered(frame: Frame) -> Frame:
    """`frame` with `_source_row`, the record's number in the file (from 1)."""
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))


def carried(raw: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """Columns `normalise` passes through untouched: the scan's `RAGGED_FIELD`, so the streamed
    load checks it in the one query that parses the file (a second consumer of the scan would
    make polars cache the parsed file: measured 1.6 GB at 3*10^6 rows)."""
    return [c for c in (RAGGED_FIELD,) if c in raw.collect_schema().names()]


def finish(typed: pl.LazyFrame | pl.DataFrame, schema: dict[str, pl.DataType], raw: Frame) -> Frame:
    """The last step of every `normalise`: the row number, the landing columns cast to `schema`,
    the reject reason, the scope reason when the source has one, and what `carried` passes
    through; collected when `raw` was eager (a file read whole), lazy when it was lazy (streamed)."""
    names = typed.collect_schema().names()
    scope = [OUT_OF_SCOPE] if OUT_OF_SCOPE in names else []
    out = typed.lazy().select(ROW_NUMBER, *schema, REJECT_REASON, *scope, *carried(raw)).cast(schema)  # type: ignore[arg-type]
    return out if isinstance(raw, pl.LazyFrame) else out.collect()  # type: ignore[return-value]
