"""USGS Mineral Commodity Summaries (MCS): every published CSV layout, landed one statistic per row.

The layout is recognised by its header: the long data-release CSV of MCS 2025 and 2026 (below),
or one of the wide layouts USGS has published for every edition (the per-commodity salient and
world tables, MCS table 5, figures 2 and 3), which `layouts.py` turns into long rows first. For
those, a "row" read is one statistic cell; `source_line` and `source_field` say where it was.
Every value keeps its MCS edition (`mcs_edition`): the `DataSource`/`Source` cell of a wide file,
an `MCS edition`/`Edition`/`Vintage` column of a long one, else the file name (`mcs2025_…`);
a long file that says none lands with it null. `is_total` marks world-total rows (`World total
(rounded)`), which are never a country. Rows of a wide layout whose commodity is not a rare
earth, yttrium or scandium carry their reason in `OUT_OF_SCOPE` (counted apart, not quarantined).


Header `MCS chapter, Section, Commodity, Country, Statistics, Statistics_detail, Unit, Year, Value,
Notes`, often followed by `Is critical mineral 2025`, `Other notes` or more columns (extra columns
are tolerated and ignored, except `Other notes`, which is kept). Every row of the long layout is
landed, rare earths or not; `is_rare_earth` says which (the lanthanides, yttrium and scandium).

Traps handled here:
- Encoding: the release files are often cp1252 (the em dash of "Salient Statistics—United States"
  is byte 0x97). Text is decoded strictly as UTF-8 (a BOM is removed), then as cp1252; anything else
  is an error, and text that decodes but carries UTF-8-read-as-cp1252 sequences ("â€”", "Ã©") is
  refused as double-encoded rather than landed as mojibake.
- `Value` is text. The MCS legend (Appendix A) is followed: `W` withheld, `e`/`E` next to a number
  estimated (`e1,200`, `1,200 E`), a lone `E` net exporter (it appears on net-import-reliance rows),
  `NA`/`XX` not available, a lone dash (`—`, `–`, `-`, `--`) zero, `<1` and `>95` bounds, `10–20` /
  `10-20` ranges, thousands separators. Withheld, estimated-without-number and not-available
  values are flags with a NULL `value`, never 0; `value_text` keeps the cell as declared. A bound
  goes to `value_low` / `value_high` (`<1`: high 1, `>50`: low 50), a range to both, with `value`
  NULL. An empty cell is `not_available`. Any other text (for example "Large" in some reserves
  rows) is quarantined as "unparseable value '...'".
- `Year` is a 4-digit year; the release also writes spans for import sources (`2020-23`,
  `2021–24`: `year` is the last year, `year_start` the first) and `2025_estimated` (year 2025, and a
  plain number in that row is flagged `estimated`). Anything else, or a year outside 1900 to next
  year, is quarantined.

Revision: a newer MCS edition replaces an older one's figures for the same (section, commodity,
statistic, statistic_detail, country, year); the unit is left out on purpose, so a restated unit
replaces too. "Newer" is the larger `mcs_edition`, whatever the load order (a null edition counts
as oldest; within one edition the later load wins). A statistic whose `Statistics_detail` wording
changed between editions is a different key and is not replaced.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import polars as pl

from dagster_project.sources.contract import (
    OUT_OF_SCOPE,
    REJECT_REASON,
    ROW_NUMBER,
    Expectation,
    SourceFileError,
    SourceSpec,
)
from dagster_project.sources.rules import finish, first_reason, formula_rules
from dagster_project.sources.textio import Head, open_head, read_csv_strings, require_suffix
from dagster_project.sources.usgs import layouts
from dagster_project.sources.usgs.layouts import (
    EDITION,
    IN_SCOPE,
    OUT_OF_SCOPE_REASON,
    SOURCE_FIELD,
    SOURCE_LINE,
)

NAME = "usgs"
SUFFIXES = (".csv",)
# The long data-release layout (the one the wide layouts are turned into); "Other notes" is
# optional in a file.
OTHER_NOTES = "Other notes"
REQUIRED = [c for c in layouts.LONG_COLUMNS if c != OTHER_NOTES]
ENCODINGS = ("utf-8", "cp1252")
FIRST_YEAR = 1900

REPORTED = "reported"
ESTIMATED = "estimated"
WITHHELD = "withheld"
NOT_AVAILABLE = "not_available"
ZERO = "zero"
NET_EXPORTER = "net_exporter"
LESS_THAN = "less_than"
GREATER_THAN = "greater_than"
RANGE = "range"
VALUE_FLAGS = [
    REPORTED,
    ESTIMATED,
    WITHHELD,
    NOT_AVAILABLE,
    ZERO,
    NET_EXPORTER,
    LESS_THAN,
    GREATER_THAN,
    RANGE,
]

# A number as the release writes it: thousands separators, optional decimals and sign.
_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_PATTERNS: dict[str, str] = {
    REPORTED: rf"^({_NUMBER})$",
    ESTIMATED: rf"^[eE]\s*({_NUMBER})$|^({_NUMBER})\s*[eE]$",
    WITHHELD: r"^[Ww]$",
    NOT_AVAILABLE: r"^(?i:NA|N/A|n\.a\.|XX)$",
    ZERO: r"^(?:—|–|-{1,3})$",
    NET_EXPORTER: r"^E$",
    LESS_THAN: rf"^<\s*({_NUMBER})$",
    GREATER_THAN: rf"^>\s*({_NUMBER})$",
    RANGE: rf"^({_NUMBER})\s*(?:–|—|-|to)\s*({_NUMBER})$",
}
# Byte pairs that UTF-8 text shows when it was decoded as cp1252 and saved again.
_MOJIBAKE = re.compile("â€|Ã[\u00a0-\u00bf]|Â[\u00a0-\u00bf]")
# Four or more characters in a row from the upper half of cp1252: what GBK (two bytes a character,
# both above 0x80) looks like when decoded as cp1252 ("中国" → "ÖÐ¹ú"). English text with a few
# accented letters, dashes and curly quotes never has such a run.
_MULTIBYTE_AS_CP1252 = re.compile(
    "[\u00a0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]{4,}"
)
# Rare earths in the wide sense: the lanthanides, yttrium and scandium.
_RARE_EARTH = IN_SCOPE
_EDITION_COLUMNS = ("mcs edition", "edition", "vintage")
# Text fields: a formula-like cell quarantines the row (`rules.formula_rules`).
TEXT_FIELDS = (
    "MCS chapter",
    "Section",
    "Commodity",
    "Country",
    "Statistics",
    "Statistics_detail",
    "Unit",
    "Notes",
    OTHER_NOTES,
)

LANDING_SCHEMA: dict[str, pl.DataType] = {
    "mcs_chapter": pl.String,
    "section": pl.String,
    "commodity": pl.String,
    "country": pl.String,
    "statistic": pl.String,
    "statistic_detail": pl.String,
    "unit": pl.String,
    "year": pl.Int32,
    "year_start": pl.Int32,
    "period": pl.String,
    "value": pl.Float64,
    "value_low": pl.Float64,
    "value_high": pl.Float64,
    "value_flag": pl.String,
    "value_text": pl.String,
    "notes": pl.String,
    "other_notes": pl.String,
    "is_rare_earth": pl.Boolean,
    "mcs_edition": pl.Int32,
    "is_total": pl.Boolean,
    "source_field": pl.String,
    "source_line": pl.Int64,
}
# The revision key (SPEC.revision_key, with year for period): one figure per key in a file, so
# the current view never has to choose between two rows of one load (a unit is not a key).
RECORD_KEY = ["section", "commodity", "country", "statistic", "statistic_detail", "year"]


def _check_text(path: Path, text: str) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        found = _MOJIBAKE.search(line)
        if found:
            raise SourceFileError(
                path,
                f"text looks double-encoded (mojibake {found.group(0)!r} on line {number}); "
                "export the file again from the original release",
            )
        found = _MULTIBYTE_AS_CP1252.search(line)
        if found:
            raise SourceFileError(
                path,
                f"text {found.group(0)!r} on line {number} is multi-byte text (GBK, Shift-JIS, …?) "
                "read as cp1252; the release is English: save the file as UTF-8",
            )


def _decode(path: Path, head: Head) -> str:
    text = head.read_text()
    _check_text(path, text)
    return text


def _renames(path: Path, columns: list[str]) -> dict[str, str]:
    """Header spelling drifts between editions ("MCS Chapter", "Other_notes"): match loosely."""
    canonical = {_header_key(c): c for c in [*REQUIRED, OTHER_NOTES]}
    renames = {c: canonical[_header_key(c)] for c in columns if _header_key(c) in canonical}
    targets = list(renames.values())
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise SourceFileError(
            path,
            f"column(s) {', '.join(twice)} appear more than once in the header (spelt "
            f"{', '.join(repr(c) for c, t in renames.items() if t in twice)}); which one holds the data "
            "is ambiguous",
        )
    missing = [c for c in REQUIRED if c not in targets]
    if missing:
        raise SourceFileError(
            path,
            f"missing required column(s) {', '.join(missing)}; found {', '.join(columns[:20])}; "
            "usgs takes the long MCS data-release CSV (MCS chapter, Section, Commodity, …) or a "
            "salient, world, table 5, figure 2 or figure 3 CSV of a per-commodity release",
        )
    return {old: new for old, new in renames.items() if old != new}


def read(path: Path) -> pl.DataFrame:
    require_suffix(path, SUFFIXES, "usgs takes the MCS data-release .csv")
    # The head first: junk, a wrong encoding and an unknown layout are refused before the whole
    # file is read.
    head = open_head(path, "CSV", encodings=ENCODINGS)
    header = head.columns
    layout = layouts.detect(header)
    if layout is None:
        _renames(path, header)
    text = _decode(path, head)
    frame = read_csv_strings(path, [], text=text)
    if layout is not None:
        return layouts.to_long(path, layout, header, frame)
    frame = frame.rename(_renames(path, frame.columns[1:]))
    edition = next((c for c in frame.columns if _header_key(c) in _EDITION_COLUMNS), None)
    return frame.with_columns(
        *([] if OTHER_NOTES in frame.columns else [pl.lit(None, dtype=pl.String).alias(OTHER_NOTES)]),
        (pl.col(edition) if edition else pl.lit(layouts.edition_in_name(path), dtype=pl.String)).alias(
            EDITION
        ),
        pl.lit(None, dtype=pl.String).alias(SOURCE_FIELD),
        pl.col(ROW_NUMBER).cast(pl.String).alias(SOURCE_LINE),
        pl.lit(None, dtype=pl.String).alias(OUT_OF_SCOPE_REASON),
    )


def _header_key(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


def _text(column: str) -> pl.Expr:
    """Trimmed text; an empty cell is null."""
    text = pl.col(column).str.replace_all("\u00a0", " ").str.strip_chars()
    return pl.when(text != "").then(text)


def _number(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(",", "").cast(pl.Float64, strict=False)


def _parse_value(cell: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(flag, value, low, high) of a Value cell; flag null when the text fits no pattern."""
    text = cell.str.replace_all("[\u00a0\u2009\u202f]", " ").str.strip_chars()
    matches = {flag: text.str.contains(pattern) for flag, pattern in _PATTERNS.items()}
    flag: pl.Expr = pl.lit(None, dtype=pl.String)
    for name in reversed(VALUE_FLAGS):
        flag = pl.when(matches[name]).then(pl.lit(name)).otherwise(flag)
    flag = pl.when(text.is_null() | (text == "")).then(pl.lit(NOT_AVAILABLE)).otherwise(flag)

    estimated = pl.coalesce(
        text.str.extract(_PATTERNS[ESTIMATED], 1), text.str.extract(_PATTERNS[ESTIMATED], 2)
    )
    first = (
        pl.when(flag == REPORTED)
        .then(text.str.extract(_PATTERNS[REPORTED], 1))
        .when(flag == ESTIMATED)
        .then(estimated)
        .when(flag == LESS_THAN)
        .then(text.str.extract(_PATTERNS[LESS_THAN], 1))
        .when(flag == GREATER_THAN)
        .then(text.str.extract(_PATTERNS[GREATER_THAN], 1))
        .when(flag == RANGE)
        .then(text.str.extract(_PATTERNS[RANGE], 1))
    )
    second = _number(text.str.extract(_PATTERNS[RANGE], 2))
    first_number = _number(first)
    value = (
        pl.when(flag.is_in([REPORTED, ESTIMATED]))
        .then(first_number)
        .when(flag == ZERO)
        .then(pl.lit(0.0))
        .otherwise(pl.lit(None, dtype=pl.Float64))
    )
    low = pl.when(flag.is_in([GREATER_THAN, RANGE])).then(first_number)
    high = pl.when(flag == LESS_THAN).then(first_number).when(flag == RANGE).then(second)
    return flag, value, low, high


def _parse_year(cell: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(year, year_start, year_is_estimate) of a Year cell; year null when it is not a year."""
    text = cell.str.strip_chars()
    single = text.str.extract(r"^(\d{4})$", 1).cast(pl.Int32, strict=False)
    marked = text.str.extract(r"^(\d{4})[_ ]?(?i:e|est|estimated)$", 1).cast(pl.Int32, strict=False)
    span = r"^(\d{4})\s*[-–—]\s*(\d{2}|\d{4})$"
    span_start = text.str.extract(span, 1).cast(pl.Int32, strict=False)
    span_end_text = text.str.extract(span, 2)
    # "2020-23" ends in the start's century; a span must move forward ("2023-20" is no year).
    span_end = (
        pl.when(span_end_text.str.len_chars() == 4)
        .then(span_end_text.cast(pl.Int32, strict=False))
        .otherwise((span_start // 100) * 100 + span_end_text.cast(pl.Int32, strict=False))
    )
    span_end = pl.when(span_end > span_start).then(span_end)
    year = pl.coalesce(single, marked, span_end)
    year_start = pl.coalesce(single, marked, pl.when(span_end.is_not_null()).then(span_start))
    return year, year_start, marked.is_not_null()


def normalise(raw: pl.DataFrame) -> pl.DataFrame:
    latest_year = datetime.date.today().year + 1
    flag, value, low, high = _parse_value(pl.col("Value"))
    year, year_start, year_is_estimate = _parse_year(pl.col("Year"))
    typed = raw.with_columns(
        _text("MCS chapter").alias("mcs_chapter"),
        _text("Section").alias("section"),
        _text("Commodity").alias("commodity"),
        _text("Country").alias("country"),
        _text("Statistics").alias("statistic"),
        _text("Statistics_detail").alias("statistic_detail"),
        _text("Unit").alias("unit"),
        year.alias("year"),
        year_start.alias("year_start"),
        year_is_estimate.alias("_year_is_estimate"),
        flag.alias("_flag"),
        value.alias("value"),
        low.alias("value_low"),
        high.alias("value_high"),
        pl.col("Value").alias("value_text"),
        _text("Notes").alias("notes"),
        _text(OTHER_NOTES).alias("other_notes"),
        _text(EDITION).alias("_edition_text"),
        _text(EDITION).str.extract(r"(?i)^(?:MCS)?\s*(\d{4})$", 1).cast(pl.Int32).alias("mcs_edition"),
        _text("Country").str.contains(r"(?i)^world\s+total").fill_null(False).alias("is_total"),
        _text(SOURCE_FIELD).alias("source_field"),
        pl.col(SOURCE_LINE).cast(pl.Int64, strict=False).alias("source_line"),
        _text(OUT_OF_SCOPE_REASON).alias(OUT_OF_SCOPE),
    ).with_columns(
        # "2025_estimated" in Year marks that year's plain figures as estimates.
        pl.when((pl.col("_flag") == REPORTED) & pl.col("_year_is_estimate"))
        .then(pl.lit(ESTIMATED))
        .otherwise(pl.col("_flag"))
        .alias("value_flag"),
        pl.col("year").cast(pl.String).alias("period"),
        (
            pl.col("commodity").str.contains(_RARE_EARTH).fill_null(False)
            | pl.col("mcs_chapter").str.contains(_RARE_EARTH).fill_null(False)
        ).alias("is_rare_earth"),
    )
    reason = first_reason(
        *formula_rules(*TEXT_FIELDS),
        (pl.col("commodity").is_null(), "Commodity is missing"),
        (pl.col("country").is_null(), "Country is missing"),
        (pl.col("statistic").is_null(), "Statistics is missing"),
        (
            pl.col("year").is_null(),
            pl.format("Year '{}' is not a 4-digit year", pl.col("Year").fill_null("")),
        ),
        (
            ~pl.col("year_start").is_between(FIRST_YEAR, latest_year)
            | ~pl.col("year").is_between(FIRST_YEAR, latest_year),
            pl.format("Year {} is out of range ({} to next year)", pl.col("Year"), pl.lit(FIRST_YEAR)),
        ),
        (
            (pl.col("_edition_text").is_not_null() & pl.col("mcs_edition").is_null()).fill_null(False),
            pl.format("MCS edition '{}' is not an edition (MCS2024, 2024)", pl.col("_edition_text")),
        ),
        (
            pl.col("value_flag").is_null(),
            pl.format("unparseable value '{}'", pl.col("Value")),
        ),
        (
            (pl.col("value_low") > pl.col("value_high")).fill_null(False),
            pl.format("range '{}' has its low above its high", pl.col("Value")),
        ),
    )
    return finish(typed.with_columns(reason.alias(REJECT_REASON)), LANDING_SCHEMA, raw)


def suite() -> list[Expectation]:
    return [
        ("ExpectTableColumnsToMatchSet", {"column_set": list(LANDING_SCHEMA), "exact_match": True}),
        *[
            ("ExpectColumnValuesToNotBeNull", {"column": c})
            for c in (
                "commodity",
                "country",
                "statistic",
                "year",
                "year_start",
                "period",
                "value_flag",
                "is_rare_earth",
                "is_total",
                "source_line",
            )
        ],
        (
            "ExpectColumnValuesToBeBetween",
            {"column": "mcs_edition", "min_value": 1996, "max_value": datetime.date.today().year + 1},
        ),
        ("ExpectColumnValuesToBeInSet", {"column": "value_flag", "value_set": VALUE_FLAGS}),
        ("ExpectColumnValuesToMatchRegex", {"column": "period", "regex": r"^\d{4}$"}),
        (
            "ExpectColumnValuesToBeBetween",
            {"column": "year", "min_value": FIRST_YEAR, "max_value": datetime.date.today().year + 1},
        ),
        (
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": "year", "column_B": "year_start", "or_equal": True},
        ),
        # Stocks changes can be negative in a few chapters; quantities, prices and shares are not.
        ("ExpectColumnValuesToBeBetween", {"column": "value", "min_value": 0, "mostly": 0.99}),
        ("ExpectColumnValuesToBeBetween", {"column": "value_low", "min_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "value_high", "min_value": 0}),
        (
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {
                "column_A": "value_high",
                "column_B": "value_low",
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
        ),
        ("ExpectCompoundColumnsToBeUnique", {"column_list": RECORD_KEY}),
    ]


SPEC = SourceSpec(
    name=NAME,
    read=read,
    normalise=normalise,
    suite=suite,
    landing_schema=LANDING_SCHEMA,
    revision_key=("section", "commodity", "statistic", "statistic_detail", "country", "period"),
    description="USGS Mineral Commodity Summaries CSVs: the long data release, the per-commodity "
    "salient and world tables, MCS table 5, figures 2 and 3",
    # A data release ships its metadata (`mcs2024-raree_meta.xml`) and revision notes
    # (`MCS_2024_Data_Release_Revision_File_2024-03-06.txt`) beside the CSVs.
    companions=("*_meta.xml", "*Revision_File*.txt"),
)
