"""China customs (GACC) statistics: the online query platform's CSV export, and XLSX.

This module owns reading one GACC export file (CSV or XLSX), turning it into the typed landing
schema with a reject reason per row, and the file's GX suite.

Format traps handled here (the encoding and the flow of a file: `gacc_files`; the periods:
`gacc_periods`):
- Chinese headers (数据年月, 商品编码, 商品名称, 贸易伙伴编码, 贸易伙伴名称, 第一数量, 第一计量单位,
  第二数量, 第二计量单位) with stray spaces around them, and exactly one value column: 人民币 (CNY)
  or 美元 (USD). 贸易方式编码/贸易方式 (trade mode) and 注册地编码/注册地 (registration place) are
  optional; a file that has them holds several rows per partner, kept here and summed downstream.
- Numbers with thousands separators ("1,234,567"); anything else with a comma or a second dot
  ("12,34", "1.234.567": another locale) is not a number and the row is quarantined.
- Scope: an export holds whatever lines the query asked for. A well-formed line under no
  rare-earth heading (the products seed's HS6 2805.30, 2846.10, 2846.90, 8505.11, and all of HS4
  2846: `reference.ree_code_prefixes`) is out of scope, counted apart with its reason
  (`_out_of_scope`), not quarantined; it is still quarantined when its own form is broken (a bad
  period, a value that is not a number). An unknown code under a rare-earth heading (28469999) is
  quarantined ("unknown product code").
- Partners: the 3-digit GACC code is checked against the Chinese name in the seed `countries`
  (gacc_code, gacc_name); the world total 总值 (code 000 or empty) becomes WLD.
- Units: kilograms come only from 千克 (×1) and 吨 (×1000) in the first unit; a count (个, 套, ...)
  never becomes kg, and a declared zero mass on a valued row is "not declared", not 0 kg.
- XLSX: read with calamine, every cell as text; integer-valued numeric cells come back without
  ".0", and a partner code stored as a number (0 for 000) gets its leading zeros back.
"""

from __future__ import annotations

import io
from pathlib import Path

import fastexcel
import polars as pl

from dagster_project.lib import reference
from dagster_project.sources.contract import ROW_NUMBER, Expectation, Frame, SourceFileError, SourceSpec
from dagster_project.sources.gacc_files import ZIP_MAGIC, check_header, decode_text, flow_from_path
from dagster_project.sources.gacc_periods import PERIOD, periods_table
from dagster_project.sources.rules import (
    finish,
    formula_rules,
    grouped_number,
    implausible,
    known_products,
    lookup,
    mass_kg,
    not_a_grouped_number,
    numbered,
    reasons_with_scope,
    trimmed,
)
from dagster_project.sources.textio import (
    HEAD_BYTES,
    check_columns,
    html_page,
    looks_like_html,
    open_head,
    plain_csv,
    read_bytes,
    read_csv_strings,
    read_head,
    require_suffix,
    scan_csv_strings,
)

NAME = "gacc"
SUFFIXES = (".csv", ".xlsx")

PRODUCT_CODE = "商品编码"
PRODUCT_NAME = "商品名称"
PARTNER_CODE = "贸易伙伴编码"
PARTNER_NAME = "贸易伙伴名称"
QUANTITY_1 = "第一数量"
UNIT_1 = "第一计量单位"
QUANTITY_2 = "第二数量"
UNIT_2 = "第二计量单位"
TRADE_MODE_CODE = "贸易方式编码"
TRADE_MODE = "贸易方式"
REGISTRATION_PLACE_CODE = "注册地编码"
REGISTRATION_PLACE = "注册地"
REQUIRED = [
    PERIOD,
    PRODUCT_CODE,
    PRODUCT_NAME,
    PARTNER_CODE,
    PARTNER_NAME,
    QUANTITY_1,
    UNIT_1,
    QUANTITY_2,
    UNIT_2,
]
OPTIONAL = [TRADE_MODE_CODE, TRADE_MODE, REGISTRATION_PLACE_CODE, REGISTRATION_PLACE]
# Text fields (codes and names): a formula-like cell quarantines the row (`rules.formula_rules`).
TEXT_FIELDS = [
    PRODUCT_CODE,
    PRODUCT_NAME,
    PARTNER_CODE,
    PARTNER_NAME,
    UNIT_1,
    UNIT_2,
    TRADE_MODE_CODE,
    TRADE_MODE,
    REGISTRATION_PLACE_CODE,
    REGISTRATION_PLACE,
]
# One line for one partner and month above ten million million (CNY or USD) is a scale error.
MAX_VALUE = 1e13
VALUE_COLUMNS = {"人民币": "CNY", "美元": "USD"}
CURRENCIES = list(VALUE_COLUMNS.values())
# Added by `read` (the file has no flow column), kept in quarantine with the row's raw text.
FLOW_COLUMN = "_flow_from_path"

FLOWS = ["export", "import"]
MASS_UNITS_TO_KG = {"千克": 1.0, "吨": 1000.0}
# `quantity_unit`: the first unit in the trade-flow vocabulary (kg, t, u for a count of pieces);
# any other unit as declared.
UNIT_NAMES = {"千克": "kg", "吨": "t", "个": "u"}
# China values exports free on board and imports cost, insurance and freight (DESIGN's bases).
VALUE_BASIS = {"export": "FOB", "import": "CIF"}
WORLD_NAME = "总值"
WORLD_CODE = "000"
# `_out_of_scope` of a line under no rare-earth HS6 heading of the products seed.
NOT_REE_LINE = "not a rare-earth product line"
REPORTER_ISO3 = "CHN"
FREQS = ["M", "M2"]
FIRST_YEAR = 1990
LAST_YEAR = 2099

LANDING_SCHEMA: dict[str, pl.DataType] = {
    "flow": pl.String,
    "freq": pl.String,
    "period": pl.String,
    "period_start": pl.Date,
    "year": pl.Int32,
    "month": pl.Int32,
    "reporter_iso3": pl.String,
    "product_code": pl.String,
    "partner_code": pl.String,
    "partner_name": pl.String,
    "partner_iso3": pl.String,
    "is_world_partner": pl.Boolean,
    "trade_mode_code": pl.String,
    "trade_mode": pl.String,
    "registration_place_code": pl.String,
    "registration_place": pl.String,
    "quantity_1": pl.Float64,
    "unit_1": pl.String,
    "quantity_unit": pl.String,
    "quantity_2": pl.Float64,
    "unit_2": pl.String,
    "net_weight_kg": pl.Float64,
    "value": pl.Float64,
    "currency": pl.String,
    "value_usd": pl.Float64,
    "value_basis": pl.String,
}
RECORD_KEY = [
    "flow",
    "period",
    "product_code",
    "partner_code",
    "trade_mode_code",
    "registration_place_code",
]

# --- reading -------------------------------------------------------------------------------------


def _read_xlsx(path: Path) -> pl.DataFrame:
    head = read_head(path)
    if not head.strip() and len(head) < HEAD_BYTES:
        raise SourceFileError(path, "file is empty")
    if not head.startswith(ZIP_MAGIC):
        if looks_like_html(head[:2000].decode("utf-8", errors="replace")):
            raise html_page(path, "XLSX")
        raise SourceFileError(path, "is not an XLSX workbook (no zip signature); export it again as .xlsx")
    data = read_bytes(path)
    try:
        # Every cell as text (infer_schema_length=0), so row rules decide what a bad number is.
        frame = pl.read_excel(io.BytesIO(data), engine="calamine", infer_schema_length=0)
    except pl.exceptions.NoDataError as err:
        raise SourceFileError(path, "the first sheet is empty") from err
    except fastexcel.FastExcelError as err:
        raise SourceFileError(path, f"cannot read as XLSX: {str(err).splitlines()[0]}") from err
    frame = frame.rename({c: c.strip() for c in frame.columns})
    check_columns(path, frame.columns, REQUIRED)
    return numbered(frame)


def _read_csv(path: Path) -> pl.DataFrame:
    # The head first: junk, a wrong encoding and another layout are refused before the whole
    # file is read.
    head = open_head(path, "CSV", decoder=decode_text)
    check_header(path, head.columns, head.encoding, REQUIRED)
    text, encoding = head.read_decoded()
    frame = read_csv_strings(path, [], text=text)
    check_header(path, frame.columns[1:], encoding, REQUIRED)
    return frame


def read(path: Path) -> pl.DataFrame:
    suffix = require_suffix(path, SUFFIXES, "gacc takes .csv or .xlsx (re-save an .xls as .xlsx)")
    flow = flow_from_path(path)
    frame = _read_csv(path) if suffix == ".csv" else _read_xlsx(path)
    return _records(path, frame, flow)


def scan(path: Path, workdir: Path) -> pl.LazyFrame:
    """A CSV export as a lazy frame: `read` for files too large to hold in memory. The head
    decides the encoding and is checked as `read` checks it; a GBK file is transcoded to a UTF-8
    copy in `workdir` block by block, strictly (a bad byte further on is an error, not mojibake)."""
    require_suffix(path, (".csv",), None)
    flow = flow_from_path(path)
    head = open_head(path, "CSV", decoder=decode_text)
    check_header(path, head.columns, head.encoding, REQUIRED)
    plain = plain_csv(path, workdir, head.encoding, head.text)
    return _records(path, scan_csv_strings(path, plain, head.text), flow)


def _records(path: Path, frame: Frame, flow: str) -> Frame:
    """One currency column, the optional columns, no blank lines, and the flow from the path."""
    columns = [c for c in frame.collect_schema().names() if c != ROW_NUMBER]
    value_columns = [c for c in VALUE_COLUMNS if c in columns]
    if not value_columns:
        raise SourceFileError(
            path,
            f"missing the value column: 人民币 (CNY) or 美元 (USD); found {', '.join(columns[:20])}",
        )
    if len(value_columns) > 1:
        raise SourceFileError(path, "has both 人民币 and 美元 value columns; export one currency per file")
    missing = [c for c in OPTIONAL if c not in columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    # A blank line (often the last one of an export) is not a record; XLSX drops them the same way.
    blank = pl.all_horizontal(
        pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in columns + missing
    )
    return frame.filter(~blank).with_columns(pl.lit(flow).alias(FLOW_COLUMN))


# --- normalise -----------------------------------------------------------------------------------


def _partners() -> pl.DataFrame:
    return (
        reference.seed("countries")
        .filter(pl.col("gacc_code").is_not_null())
        .select(
            pl.col("gacc_code").alias("partner_code"),
            pl.col("iso3").alias("_seed_iso3"),
            pl.col("gacc_name").alias("_seed_name"),
        )
    )


def normalise(raw: Frame) -> Frame:
    """Typed landing rows plus `_reject_reason`; lazy in, lazy out (the streamed load), else eager."""
    columns = raw.collect_schema().names()
    # `read` made sure there is exactly one: 人民币 or 美元.
    value_column = next(c for c in VALUE_COLUMNS if c in columns)
    code_text = trimmed(PARTNER_CODE)
    # The distinct period texts are few: each is parsed once, in Python, and joined back.
    periods = periods_table(raw.lazy().select(PERIOD).unique().collect()[PERIOD])
    typed = raw.lazy().with_columns(
        pl.col(FLOW_COLUMN).alias("flow"),
        pl.lit(REPORTER_ISO3).alias("reporter_iso3"),
        trimmed(PRODUCT_CODE).alias("product_code"),
        # An XLSX numeric cell drops leading zeros (000 → 0); GACC partner codes are 3 digits.
        pl.when(code_text.str.contains(r"^\d{1,3}$"))
        .then(code_text.str.zfill(3))
        .otherwise(code_text)
        .alias("partner_code"),
        trimmed(PARTNER_NAME).alias("partner_name"),
        trimmed(TRADE_MODE_CODE).alias("trade_mode_code"),
        trimmed(TRADE_MODE).alias("trade_mode"),
        trimmed(REGISTRATION_PLACE_CODE).alias("registration_place_code"),
        trimmed(REGISTRATION_PLACE).alias("registration_place"),
        grouped_number(QUANTITY_1).alias("quantity_1"),
        trimmed(UNIT_1).alias("unit_1"),
        grouped_number(QUANTITY_2).alias("quantity_2"),
        trimmed(UNIT_2).alias("unit_2"),
        grouped_number(value_column).alias("value"),
        pl.lit(VALUE_COLUMNS[value_column]).alias("currency"),
    )
    typed = typed.join(periods.lazy(), on=PERIOD, how="left", nulls_equal=True, maintain_order="left")
    typed = typed.join(_partners().lazy(), on="partner_code", how="left", maintain_order="left")
    # The world total: 总值 with code 000 or no code.
    is_world = (pl.col("partner_name") == WORLD_NAME) & (
        pl.col("partner_code").is_null() | (pl.col("partner_code") == WORLD_CODE)
    )
    typed = typed.with_columns(
        is_world.fill_null(False).alias("is_world_partner"),
        pl.when(is_world).then(pl.lit("WLD")).otherwise(pl.col("_seed_iso3")).alias("partner_iso3"),
        pl.when(is_world).then(pl.lit(WORLD_CODE)).otherwise(pl.col("partner_code")).alias("partner_code"),
        pl.date(pl.col("year"), pl.col("month"), 1).alias("period_start"),
        mass_kg(pl.col("quantity_1"), pl.col("unit_1"), pl.col("value"), MASS_UNITS_TO_KG).alias(
            "net_weight_kg"
        ),
        pl.when(pl.col("currency") == "USD").then(pl.col("value")).alias("value_usd"),
        pl.coalesce(lookup(pl.col("unit_1"), UNIT_NAMES, pl.String), pl.col("unit_1")).alias("quantity_unit"),
        lookup(pl.col("flow"), VALUE_BASIS, pl.String).alias("value_basis"),
    )
    typed = typed.join(
        known_products(NAME, FIRST_YEAR, LAST_YEAR),
        on=["product_code", "year"],
        how="left",
        maintain_order="left",
    )
    world = pl.col("is_world_partner")
    text_fields = [c for c in TEXT_FIELDS if c in columns]
    declared_code = pl.col("partner_code").fill_null("<empty>")
    declared_name = pl.col("partner_name").fill_null("<empty>")
    form_rules = [
        *formula_rules(*text_fields),
        (pl.col("_period_problem").is_not_null(), pl.col("_period_problem")),
        (
            ~pl.col("year").is_between(FIRST_YEAR, LAST_YEAR),
            pl.format(f"period {{}} is out of range ({FIRST_YEAR}-{LAST_YEAR})", pl.col(PERIOD)),
        ),
    ]
    code_form = (
        ~pl.col("product_code").str.contains(r"^(\d{8}|\d{10})$"),
        pl.format(
            "product code {} is not an 8- or 10-digit national code",
            pl.col("product_code").fill_null("<empty>"),
        ),
    )
    reference_rules = [
        (
            pl.col("_known_product").is_null(),
            pl.format("unknown product code {} for {}", pl.col("product_code"), pl.col("year")),
        ),
        (
            # 000 is the world code: any other name under it is a mislabelled row.
            ((pl.col("partner_code") == WORLD_CODE) & ~world).fill_null(False),
            pl.format("partner code 000 is 总值 (world) in the code list, file says {}", declared_name),
        ),
        (
            ~world & ~pl.col("partner_code").str.contains(r"^\d{3}$"),
            pl.format("partner code {} is not a 3-digit GACC code", declared_code),
        ),
        (
            ~world & pl.col("_seed_iso3").is_null(),
            pl.format("unknown partner code {}", pl.col("partner_code")),
        ),
        (
            ~world & (pl.col("_seed_name") != declared_name),
            pl.format(
                "partner code {} is {} in the code list, file says {}",
                pl.col("partner_code"),
                pl.col("_seed_name"),
                declared_name,
            ),
        ),
    ]
    number_rules = [
        (
            not_a_grouped_number(value_column),
            pl.format(f"{value_column} value {{}} is not a number", value_column),
        ),
        (pl.col("value").is_null(), f"{value_column} value is missing"),
        (pl.col("value") < 0, f"{value_column} value is negative"),
        (
            implausible(pl.col("value"), MAX_VALUE),
            pl.format(f"{value_column} value {{}} is implausibly large (over 1e13)", value_column),
        ),
        (not_a_grouped_number(QUANTITY_1), pl.format("第一数量 {} is not a number", QUANTITY_1)),
        (not_a_grouped_number(QUANTITY_2), pl.format("第二数量 {} is not a number", QUANTITY_2)),
        ((pl.col("quantity_1") < 0).fill_null(False), "第一数量 is negative"),
        ((pl.col("quantity_2") < 0).fill_null(False), "第二数量 is negative"),
    ]
    # A well-formed line under no rare-earth heading (soybeans 12019019, or 1201 in an export at
    # heading level) is out of scope: counted apart, never quarantined as an unknown product. An
    # unknown code under a rare-earth heading (28469999) and an aggregate holding one (2846, 28)
    # still are quarantined.
    code = pl.col("product_code")
    prefixes = reference.ree_code_prefixes(NAME)
    scope = pl.when(
        code.str.contains(r"^\d{2,10}$")
        & ~pl.any_horizontal(
            *[code.str.starts_with(prefix) for prefix in prefixes],
            *[pl.lit(prefix).str.starts_with(code) for prefix in prefixes],
        )
    ).then(pl.lit(NOT_REE_LINE))
    reasons = reasons_with_scope(
        [*form_rules, code_form, *reference_rules, *number_rules], [*form_rules, *number_rules], scope
    )
    return finish(typed.with_columns(reasons), LANDING_SCHEMA, raw)


# --- the GX suite --------------------------------------------------------------------------------


def suite() -> list[Expectation]:
    return [
        (
            "ExpectTableColumnsToMatchSet",
            {"column_set": list(LANDING_SCHEMA) + ["_unit_value_per_kg"], "exact_match": True},
        ),
        *[
            ("ExpectColumnValuesToNotBeNull", {"column": c})
            for c in (
                "flow",
                "freq",
                "period",
                "period_start",
                "year",
                "month",
                "reporter_iso3",
                "product_code",
                "partner_code",
                "partner_iso3",
                "value",
                "currency",
            )
        ],
        ("ExpectColumnValuesToBeInSet", {"column": "flow", "value_set": FLOWS}),
        ("ExpectColumnValuesToBeInSet", {"column": "freq", "value_set": FREQS}),
        ("ExpectColumnValuesToBeInSet", {"column": "currency", "value_set": CURRENCIES}),
        ("ExpectColumnValuesToBeInSet", {"column": "reporter_iso3", "value_set": [REPORTER_ISO3]}),
        ("ExpectColumnValuesToBeInSet", {"column": "value_basis", "value_set": list(VALUE_BASIS.values())}),
        ("ExpectColumnValuesToMatchRegex", {"column": "period", "regex": r"^\d{4}-(?:\d{2}|01/02)$"}),
        ("ExpectColumnValuesToMatchRegex", {"column": "product_code", "regex": r"^(?:\d{8}|\d{10})$"}),
        ("ExpectColumnValuesToMatchRegex", {"column": "partner_code", "regex": r"^\d{3}$"}),
        ("ExpectColumnValuesToMatchRegex", {"column": "partner_iso3", "regex": r"^[A-Z]{3}$"}),
        ("ExpectColumnValuesToBeBetween", {"column": "month", "min_value": 1, "max_value": 12}),
        *[
            ("ExpectColumnValuesToBeBetween", {"column": c, "min_value": 0})
            for c in ("value", "value_usd", "quantity_1", "quantity_2", "net_weight_kg")
        ],
        ("ExpectCompoundColumnsToBeUnique", {"column_list": RECORD_KEY}),
        # Declared unit values of rare-earth lines sit between a few cents and tens of thousands
        # of USD per kg (up to about seven times that in CNY); many rows outside means a unit
        # (千克 vs 吨) or scale error in the export.
        (
            "ExpectColumnValuesToBeBetween",
            {"column": "_unit_value_per_kg", "min_value": 0.01, "max_value": 400_000, "mostly": 0.95},
        ),
    ]


SPEC = SourceSpec(
    name=NAME,
    read=read,
    normalise=normalise,
    suite=suite,
    landing_schema=LANDING_SCHEMA,
    # period_start is a function of period: it changes no partition (int_*__current says why).
    revision_key=("flow", "freq", "period", "period_start"),
    description="China customs (GACC) statistics export, CSV (GBK or UTF-8) or XLSX, Chinese headers",
    derived_for_validation={"_unit_value_per_kg": pl.col("value") / pl.col("net_weight_kg")},
    scan=scan,
)
