"""UN Comtrade: API v1 JSON payloads (`{"data": [...]}`) and CSV files with the same field names.

Traps handled here: `refMonth` 52 / `freqCode` A is annual; `partnerCode` 0 is World (kept as
`WLD`, flagged); Comtrade areas ("Areas, nes", EU, ...) are flagged, not countries; a record with
a customs-procedure, transport-mode or second-partner breakdown is a slice of a total and is
flagged `is_breakdown` (kept in raw, never added to totals downstream); `primaryValue` is CIF on
imports and FOB on exports; re-imports and re-exports keep their own flow codes.

Scope: a record of `cmdCode TOTAL` (all commodities), or of an HS code under none of the
rare-earth headings (`reference.ree_code_prefixes`: the products seed's HS6 lines and HS4 2846)
that is not an aggregate holding one either (120190, 1201; but not 28 or 2846), is out of scope:
counted apart with its reason (`_out_of_scope`), not quarantined, unless its own form is broken
(a bad period, a value that is not a number). An aggregate code that holds rare-earth lines (HS4
2846) is still quarantined as "not an HS6 code": those figures are rare-earth data the marts
cannot use at that level.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import polars as pl

from dagster_project.lib import reference
from dagster_project.sources.contract import Expectation, Frame, SourceSpec
from dagster_project.sources.rules import (
    finish,
    formula_rules,
    implausible,
    known_products,
    lookup,
    mass_is_declared,
    not_a_number,
    reasons_with_scope,
    to_number,
)
from dagster_project.sources.textio import (
    check_columns,
    open_head,
    plain_csv,
    read_csv_strings,
    read_json_records,
    require_suffix,
    scan_csv_strings,
)

NAME = "comtrade"
SUFFIXES = (".json", ".csv")
REQUIRED = [
    "freqCode",
    "refYear",
    "refMonth",
    "reporterCode",
    "flowCode",
    "partnerCode",
    "cmdCode",
    "primaryValue",
]
OPTIONAL = [
    "typeCode",
    "period",
    "reporterISO",
    "partnerISO",
    "partner2Code",
    "classificationCode",
    "customsCode",
    "motCode",
    "qtyUnitCode",
    "qtyUnitAbbr",
    "qty",
    "netWgt",
    "grossWgt",
    "cifvalue",
    "fobvalue",
    "isReported",
    "isAggregate",
]
FLOWS = {"M": "import", "X": "export", "RM": "re_import", "RX": "re_export"}
# Text fields that land as declared: a formula-like cell quarantines the row (`rules.formula_rules`).
TEXT_FIELDS = ("freqCode", "flowCode", "cmdCode", "classificationCode", "customsCode", "qtyUnitAbbr")
# One HS6 line of one reporter for one period above a trillion USD is a scale or keying error.
MAX_VALUE_USD = 1e12
MASS_UNITS_TO_KG = {"kg": 1.0, "t": 1000.0}
# The reasons of `_out_of_scope`.
TOTAL_COMMODITIES = "cmdCode TOTAL (all commodities)"
NOT_REE_CODE = "not a rare-earth HS code"

LANDING_SCHEMA: dict[str, pl.DataType] = {
    "freq_code": pl.String,
    "ref_year": pl.Int32,
    "ref_month": pl.Int32,
    "period": pl.String,
    "period_start": pl.Date,
    "reporter_code": pl.Int32,
    "reporter_iso3": pl.String,
    "flow_code": pl.String,
    "flow": pl.String,
    "partner_code": pl.Int32,
    "partner_iso3": pl.String,
    "partner2_code": pl.Int32,
    "classification_code": pl.String,
    "cmd_code": pl.String,
    "customs_code": pl.String,
    "mot_code": pl.Int32,
    "qty_unit_code": pl.Int32,
    "qty_unit_abbr": pl.String,
    "quantity": pl.Float64,
    "net_weight_kg": pl.Float64,
    "gross_weight_kg": pl.Float64,
    "cif_value_usd": pl.Float64,
    "fob_value_usd": pl.Float64,
    "primary_value_usd": pl.Float64,
    "value_basis": pl.String,
    "is_world_partner": pl.Boolean,
    "is_area_partner": pl.Boolean,
    "is_breakdown": pl.Boolean,
}
RECORD_KEY = [
    "reporter_code",
    "flow_code",
    "freq_code",
    "period",
    "partner_code",
    "partner2_code",
    "cmd_code",
    "customs_code",
    "mot_code",
]


def read(path: Path) -> pl.DataFrame:
    suffix = require_suffix(path, SUFFIXES, "comtrade takes .json or .csv")
    frame = read_json_records(path, REQUIRED) if suffix == ".json" else read_csv_strings(path, REQUIRED)
    return _with_optional(frame)


def _with_optional(frame: Frame) -> Frame:
    missing = [c for c in OPTIONAL if c not in frame.collect_schema().names()]
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)


def scan(path: Path, workdir: Path) -> pl.LazyFrame:
    """A bulk CSV (plain or gzip) as a lazy frame: `read` for files too large to hold in memory.
    The same head checks refuse junk before anything is parsed."""
    require_suffix(path, (".csv",), None)
    head = open_head(path, "CSV")
    check_columns(path, head.columns, REQUIRED)
    return _with_optional(scan_csv_strings(path, plain_csv(path, workdir, "utf-8", head.text), head.text))


def _int(column: str) -> pl.Expr:
    return to_number(column).cast(pl.Int32, strict=False)


def normalise(raw: Frame) -> Frame:
    """Typed landing rows plus `_reject_reason`; lazy in, lazy out (the streamed load), else eager."""
    countries = reference.countries().filter(~pl.col("is_aggregate").fill_null(False)).lazy()
    areas = reference.comtrade_areas()
    latest_year = datetime.date.today().year + 1

    typed = raw.lazy().with_columns(
        pl.col("freqCode").str.strip_chars().str.to_uppercase().alias("freq_code"),
        _int("refYear").alias("ref_year"),
        _int("refMonth").alias("_ref_month_raw"),
        pl.col("period").alias("_declared_period"),
        _int("reporterCode").alias("reporter_code"),
        pl.col("flowCode").str.strip_chars().str.to_uppercase().alias("flow_code"),
        _int("partnerCode").alias("partner_code"),
        _int("partner2Code").fill_null(0).alias("partner2_code"),
        pl.col("classificationCode").str.strip_chars().alias("classification_code"),
        pl.col("cmdCode").str.strip_chars().alias("cmd_code"),
        pl.col("customsCode").str.strip_chars().fill_null("C00").alias("customs_code"),
        _int("motCode").fill_null(0).alias("mot_code"),
        _int("qtyUnitCode").alias("qty_unit_code"),
        pl.col("qtyUnitAbbr").str.strip_chars().alias("qty_unit_abbr"),
        to_number("qty").alias("quantity"),
        to_number("netWgt").alias("_net_wgt"),
        to_number("grossWgt").alias("gross_weight_kg"),
        to_number("cifvalue").alias("cif_value_usd"),
        to_number("fobvalue").alias("fob_value_usd"),
        to_number("primaryValue").alias("primary_value_usd"),
    )
    annual = (pl.col("freq_code") == "A") & (pl.col("_ref_month_raw") == 52)
    monthly = (pl.col("freq_code") == "M") & pl.col("_ref_month_raw").is_between(1, 12)
    mass_factor = lookup(pl.col("qty_unit_abbr").str.to_lowercase(), MASS_UNITS_TO_KG, pl.Float64)
    typed = typed.with_columns(
        pl.when(monthly).then(pl.col("_ref_month_raw")).alias("ref_month"),
        pl.when(annual)
        .then(pl.col("ref_year").cast(pl.String))
        .when(monthly)
        .then(
            pl.format(
                "{}-{}",
                pl.col("ref_year"),
                pl.col("_ref_month_raw").cast(pl.String).str.zfill(2),
            )
        )
        .alias("period"),
        pl.when(annual | monthly)
        .then(
            pl.date(
                pl.col("ref_year"),
                pl.when(monthly).then(pl.col("_ref_month_raw")).otherwise(1),
                1,
            )
        )
        .alias("period_start"),
        lookup(pl.col("flow_code"), FLOWS, pl.String).alias("flow"),
        # A declared zero mass on a shipment with value is "not declared", never 0 kg.
        pl.when(mass_is_declared(pl.col("_net_wgt"), pl.col("primary_value_usd")))
        .then(pl.col("_net_wgt"))
        .when(mass_factor.is_not_null() & (pl.col("quantity") > 0))
        .then(pl.col("quantity") * mass_factor)
        .alias("net_weight_kg"),
        pl.when(pl.col("flow_code").is_in(["M", "RM"]))
        .then(pl.lit("CIF"))
        .when(pl.col("flow_code").is_in(["X", "RX"]))
        .then(pl.lit("FOB"))
        .alias("value_basis"),
        (pl.col("partner_code") == 0).alias("is_world_partner"),
        pl.col("partner_code")
        .is_in(areas.filter(pl.col("m49") != 0)["m49"].implode())
        .alias("is_area_partner"),
        (
            (pl.col("customs_code") != "C00") | (pl.col("mot_code") != 0) | (pl.col("partner2_code") != 0)
        ).alias("is_breakdown"),
    )
    typed = typed.join(
        countries.select(pl.col("m49").cast(pl.Int32).alias("reporter_code"), reporter_iso3="iso3"),
        on="reporter_code",
        how="left",
        maintain_order="left",
    ).join(
        countries.select(pl.col("m49").cast(pl.Int32).alias("partner_code"), _partner_iso3="iso3"),
        on="partner_code",
        how="left",
        maintain_order="left",
    )
    typed = typed.with_columns(
        pl.when(pl.col("is_world_partner"))
        .then(pl.lit("WLD"))
        .otherwise(pl.col("_partner_iso3"))
        .alias("partner_iso3")
    )
    typed = typed.join(
        known_products(NAME, 1988, latest_year, code="cmd_code", year="ref_year"),
        on=["cmd_code", "ref_year"],
        how="left",
        maintain_order="left",
    )
    form_rules: list = [
        *formula_rules(*TEXT_FIELDS),
        (
            pl.col("freq_code").is_null() | ~pl.col("freq_code").is_in(["A", "M"]),
            "freqCode must be A or M",
        ),
        (
            not_a_number("refYear") | pl.col("ref_year").is_null(),
            "refYear is missing or not a number",
        ),
        (
            ~pl.col("ref_year").is_between(1988, latest_year),
            "refYear out of range (1988 to next year)",
        ),
        (~(annual | monthly), "refMonth does not match freqCode (52 for A, 1-12 for M)"),
        (
            # `period` is yyyy (annual) or yyyymm (monthly); when present it must agree.
            (pl.col("period").str.replace("-", "") != pl.col("_declared_period").str.strip_chars()).fill_null(
                False
            ),
            pl.format("period {} does not match refYear/refMonth", pl.col("_declared_period")),
        ),
    ]
    # A record whose codes are not numbers or codes at all is broken, in scope or not.
    no_reporter = (pl.col("reporter_code").is_null(), "reporterCode is missing or not a number")
    no_flow = (pl.col("flow").is_null(), pl.format("unsupported flowCode {}", pl.col("flowCode")))
    no_partner = (pl.col("partner_code").is_null(), "partnerCode is missing or not a number")
    reference_rules: list = [
        no_reporter,
        (
            pl.col("reporter_iso3").is_null(),
            pl.format("unknown reporter code {}", pl.col("reporterCode")),
        ),
        no_flow,
        no_partner,
        (
            pl.col("partner_iso3").is_null() & ~pl.col("is_area_partner").fill_null(False),
            pl.format("unknown partner code {}", pl.col("partnerCode")),
        ),
        (
            ~pl.col("cmd_code").str.contains(r"^\d{6}$"),
            pl.format("cmdCode {} is not an HS6 code", pl.col("cmdCode")),
        ),
        (
            pl.col("_known_product").is_null(),
            pl.format("unknown product code {} for {}", pl.col("cmd_code"), pl.col("ref_year")),
        ),
    ]
    number_rules: list = [
        (not_a_number("primaryValue"), "primaryValue is not a number"),
        (pl.col("primary_value_usd").is_null(), "primaryValue is missing"),
        (pl.col("primary_value_usd") < 0, "primaryValue is negative"),
        (
            implausible(pl.col("primary_value_usd"), MAX_VALUE_USD),
            pl.format("primaryValue {} is implausibly large (over 1e12 USD)", pl.col("primaryValue")),
        ),
        (not_a_number("netWgt"), "netWgt is not a number"),
        (not_a_number("qty"), "qty is not a number"),
        ((pl.col("_net_wgt") < 0).fill_null(False), "netWgt is negative"),
        ((pl.col("quantity") < 0).fill_null(False), "qty is negative"),
    ]
    code = pl.col("cmd_code")
    prefixes = reference.ree_code_prefixes(NAME)
    # In scope: a code under a rare-earth heading, or an aggregate that holds one (28 holds 280530).
    ree_or_aggregate = pl.any_horizontal(
        *[code.str.starts_with(prefix) for prefix in prefixes],
        *[pl.lit(prefix).str.starts_with(code) for prefix in prefixes],
    )
    scope = (
        pl.when(code.str.to_uppercase() == "TOTAL")
        .then(pl.lit(TOTAL_COMMODITIES))
        .when(code.str.contains(r"^\d{2,6}$") & ~ree_or_aggregate.fill_null(False))
        .then(pl.lit(NOT_REE_CODE))
    )
    structural = [*form_rules, no_reporter, no_flow, no_partner, *number_rules]
    reasons = reasons_with_scope([*form_rules, *reference_rules, *number_rules], structural, scope)
    return finish(typed.with_columns(reasons), LANDING_SCHEMA, raw)


def suite() -> list[Expectation]:
    return [
        (
            "ExpectTableColumnsToMatchSet",
            {"column_set": list(LANDING_SCHEMA) + ["_unit_value_usd_per_kg"], "exact_match": True},
        ),
        *[
            ("ExpectColumnValuesToNotBeNull", {"column": c})
            for c in (
                "freq_code",
                "period",
                "period_start",
                "reporter_iso3",
                "flow",
                "partner_code",
                "cmd_code",
                "primary_value_usd",
            )
        ],
        ("ExpectColumnValuesToBeInSet", {"column": "freq_code", "value_set": ["A", "M"]}),
        ("ExpectColumnValuesToBeInSet", {"column": "flow_code", "value_set": list(FLOWS)}),
        ("ExpectColumnValuesToBeInSet", {"column": "value_basis", "value_set": ["CIF", "FOB"]}),
        ("ExpectColumnValuesToMatchRegex", {"column": "cmd_code", "regex": r"^\d{6}$"}),
        ("ExpectColumnValuesToMatchRegex", {"column": "reporter_iso3", "regex": r"^[A-Z]{3}$"}),
        ("ExpectColumnValuesToBeBetween", {"column": "primary_value_usd", "min_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "net_weight_kg", "min_value": 0}),
        ("ExpectCompoundColumnsToBeUnique", {"column_list": RECORD_KEY}),
        # Customs unit values of rare-earth lines sit between cents and tens of thousands of
        # USD/kg; a load where many rows fall outside is a unit or scale error.
        (
            "ExpectColumnValuesToBeBetween",
            {
                "column": "_unit_value_usd_per_kg",
                "min_value": 0.01,
                "max_value": 50000,
                "mostly": 0.95,
            },
        ),
    ]


SPEC = SourceSpec(
    name=NAME,
    read=read,
    normalise=normalise,
    suite=suite,
    landing_schema=LANDING_SCHEMA,
    # period_start is a function of period: it changes no partition (int_*__current says why).
    revision_key=("reporter_code", "flow_code", "freq_code", "period", "period_start"),
    description="UN Comtrade API v1 JSON or CSV (same field names)",
    derived_for_validation={"_unit_value_usd_per_kg": pl.col("primary_value_usd") / pl.col("net_weight_kg")},
    scan=scan,
)
