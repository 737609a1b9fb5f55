"""US Census Bureau international trade API: `timeseries/intltrade/imports/hs` and `.../exports/hs`.

Owns reading a saved API response, normalising it into the landing schema with its row rules,
and the GX suite; the live HTTP pull that saves such responses is `pulls.census`.

Format: a JSON array of arrays, header row first, every value a string. Traps handled here:
- the endpoint is told by the header: `I_COMMODITY` (imports, 10-digit HTS) or `E_COMMODITY`
  (exports, 10-digit Schedule B); a file is one endpoint. The two are different code lists: an
  import line is looked up among the seed's HTS lines, an export line among its Schedule B lines
  (`products.classification`), so an HTS-only code on an export is quarantined, never matched.
- predicate variables (`time`, `COMM_LVL`, `SUMMARY_LVL`, `YEAR`, `MONTH`) are appended as extra
  columns, and a variable asked for both in `get` and as a predicate can come back twice.
- `CTY_CODE` "-" is TOTAL FOR ALL COUNTRIES: kept as partner `WLD`, flagged, never a country.
  Groupings (`0003` EUROPEAN UNION, `0014` PACIFIC RIM, `1XXX` NORTH AMERICA, ...) are landed
  with `is_grouping` and are never partners downstream.
- imports carry general (`GEN_*`) and consumption (`CON_*`) figures: `value_usd` is always
  `GEN_VAL_MO` (customs value, general imports); `CON_VAL_MO` and `GEN_CIF_MO` are kept beside it.
- exports may be split by `DF` (1 domestic, 2 foreign): the rows stay apart here, and are summed
  downstream.
- scope: a response holds whatever the query asked for (`I_COMMODITY=12*` gives soybeans). A
  well-formed line under no rare-earth heading (`reference.ree_code_prefixes`: the seed's HS6
  lines and HS4 2846) is out of scope, counted apart with its reason (`_out_of_scope`), not
  quarantined; it still is when its own form is broken (a bad month, a value that is not a
  number). An unknown code under a rare-earth heading (2846999999) is quarantined.
- `UNIT_QY1` is the unit of the first quantity: only KG and T give kilograms; a count (NO) or X
  (no quantity) never does. A zero mass on a shipment with value is "not declared", not 0 kg.
- a missing or invalid key returns an HTML page with HTTP 200, and a comma list of commodities
  returns 204 with an empty body: saved as files, both are clear `SourceFileError`s.

A file is the unit of revision for (flow, period): a later file for the same flow and month
replaces every figure of the earlier one, so a month must be saved whole (every commodity
wildcard in one file: `pulls.census.pull` does that), never one wildcard per file.
"""

import datetime
from pathlib import Path
from typing import Any

import polars as pl

from dagster_project.lib import reference
from dagster_project.sources import census_response as response
from dagster_project.sources.contract import (
    ROW_NUMBER,
    Expectation,
    SourceFileError,
    SourceSpec,
)
from dagster_project.sources.rules import (
    finish,
    formula_rules,
    implausible,
    mass_kg,
    not_a_number,
    numbered,
    reasons_with_scope,
    to_number,
)
from dagster_project.sources.textio import check_columns, require_suffix

NAME = "census"
SUFFIXES = (".json",)
# `_out_of_scope` of a line under no rare-earth heading.
NOT_REE_LINE = "not a rare-earth product line"

IMPORT = "import"
EXPORT = "export"
# Per endpoint: the commodity column, the value and quantity used downstream, and the optional
# columns that are kept when present.
COLUMNS: dict[str, dict[str, Any]] = {
    IMPORT: {
        "commodity": "I_COMMODITY",
        "value": "GEN_VAL_MO",
        "quantity": "GEN_QY1_MO",
        "optional": [
            "I_COMMODITY_SDESC",
            "CTY_NAME",
            "CON_VAL_MO",
            "GEN_CIF_MO",
            "CON_QY1_MO",
        ],
    },
    EXPORT: {
        "commodity": "E_COMMODITY",
        "value": "ALL_VAL_MO",
        "quantity": "QTY_1_MO",
        "optional": ["E_COMMODITY_SDESC", "CTY_NAME", "DF"],
    },
}
UNIT = "UNIT_QY1"
MASS_UNITS_TO_KG = {"KG": 1.0, "T": 1000.0}
WORLD_CODE = "-"
DF_CODES = ["1", "2"]
# The code list each endpoint classifies by, as `products.classification` names it (a code that
# is the same 10-digit line in both lists is one row, 'HTS and Schedule B').
CLASSIFICATIONS = {
    IMPORT: ("HTS", "HTS and Schedule B"),
    EXPORT: ("Schedule B", "HTS and Schedule B"),
}
# Census value bases in DESIGN's vocabulary. Export value (ALL_VAL_MO) is f.a.s. (free alongside
# ship: the goods at the US port, before loading); FOB is the closest basis DESIGN knows, and the
# two differ only by the loading charges.
VALUE_BASIS = {IMPORT: "customs", EXPORT: "FOB"}
# Every row of this API: the United States' own statistics, one month each.
REPORTER_ISO3 = "USA"
FREQ = "M"
# Text fields that land as declared (the codes have their own rules): a formula-like cell
# quarantines the row (`rules.formula_rules`).
TEXT_FIELDS = (UNIT, "DF")
# One HS10 line for one partner and month above a trillion USD is a scale or keying error.
MAX_VALUE_USD = 1e12
# The API has monthly HS detail from 2010-01 (it answers 204 before); later than this month
# cannot have been published.
FIRST_MONTH = datetime.date(2010, 1, 1)

LANDING_SCHEMA: dict[str, pl.DataType] = {
    "flow": pl.String,
    "freq": pl.String,
    "period": pl.String,
    "period_start": pl.Date,
    "year": pl.Int32,
    "month": pl.Int32,
    "reporter_iso3": pl.String,
    "cty_code": pl.String,
    "partner_iso3": pl.String,
    "is_world_partner": pl.Boolean,
    "is_grouping": pl.Boolean,
    "commodity": pl.String,
    "df_code": pl.String,
    "value_usd": pl.Float64,
    "value_basis": pl.String,
    "con_value_usd": pl.Float64,
    "gen_cif_value_usd": pl.Float64,
    "quantity": pl.Float64,
    "quantity_unit": pl.String,
    "net_weight_kg": pl.Float64,
}
RECORD_KEY = ["flow", "period", "cty_code", "commodity", "df_code"]


# --- read -------------------------------------------------------------------------------------


def flow_of(path: Path | str, header: list[str]) -> str:
    """The endpoint a header comes from: imports/hs has I_COMMODITY, exports/hs E_COMMODITY."""
    imports, exports = "I_COMMODITY" in header, "E_COMMODITY" in header
    if imports and exports:
        raise SourceFileError(path, "header has both I_COMMODITY and E_COMMODITY; save one endpoint per file")
    if not (imports or exports):
        raise SourceFileError(
            path,
            "header has neither I_COMMODITY (imports/hs) nor E_COMMODITY (exports/hs); "
            f"found {', '.join(header[:20])}",
        )
    return IMPORT if imports else EXPORT


def read(path: Path) -> pl.DataFrame:
    """A saved response → one string column per header name, one row per data row."""
    require_suffix(path, SUFFIXES, "census takes .json (the API response saved as is)")
    payload = response.parse(path)
    header = response.header(path, payload)
    flow = flow_of(path, header)
    spec = COLUMNS[flow]
    required = [spec["commodity"], "CTY_CODE", spec["value"], spec["quantity"], UNIT]
    check_columns(path, header, required)
    if "time" not in header and not {"YEAR", "MONTH"} <= set(header):
        raise SourceFileError(
            path, "no month: the header has neither time nor YEAR and MONTH (pull with time=YYYY-MM)"
        )
    data = response.columns(path, header, payload[1:])
    frame = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))
    missing = [c for c in spec["optional"] if c not in frame.columns]
    return numbered(frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing))


# --- normalise --------------------------------------------------------------------------------


def _number_rules(column: str, present: list[str]) -> list[tuple[pl.Expr, str]]:
    if column not in present:
        return []
    return [
        (not_a_number(column), f"{column} is not a number"),
        ((to_number(column) < 0).fill_null(False), f"{column} is negative"),
    ]


def normalise(raw: pl.DataFrame) -> pl.DataFrame:
    flow = flow_of("<frame>", raw.columns)
    spec = COLUMNS[flow]
    countries = (
        reference.seed("countries")
        .filter(~pl.col("is_aggregate").fill_null(False) & pl.col("census_code").is_not_null())
        .select(pl.col("census_code").alias("cty_code"), pl.col("iso3").alias("_country_iso3"))
    )
    # "-" (the world total) is listed with the groupings in the seed, but it is a total, not a
    # grouping: downstream keeps it as WLD while it drops every grouping.
    groupings = (
        reference.seed("census_groupings")
        .filter(pl.col("census_code") != WORLD_CODE)["census_code"]
        .implode()
    )
    products = reference.products(NAME, CLASSIFICATIONS[flow])

    if "time" in raw.columns:
        time_text = pl.col("time").str.strip_chars()
    else:
        time_text = pl.format(
            "{}-{}", pl.col("YEAR").str.strip_chars(), pl.col("MONTH").str.strip_chars().str.zfill(2)
        )
    period_start = pl.when(time_text.str.contains(r"^\d{4}-\d{2}$")).then(
        pl.concat_str(time_text, pl.lit("-01")).str.to_date("%Y-%m-%d", strict=False)
    )
    cty_code = pl.col("CTY_CODE").str.strip_chars()
    is_world = cty_code == WORLD_CODE
    typed = raw.with_columns(
        pl.lit(flow).alias("flow"),
        time_text.alias("_time"),
        period_start.alias("period_start"),
        cty_code.alias("cty_code"),
        is_world.alias("is_world_partner"),
        (
            ~is_world
            & (cty_code.is_in(groupings) | cty_code.str.starts_with("0") | cty_code.str.ends_with("XXX"))
        ).alias("is_grouping"),
        pl.col(spec["commodity"]).str.strip_chars().alias("commodity"),
        (pl.col("DF").str.strip_chars() if flow == EXPORT else pl.lit(None, dtype=pl.String)).alias(
            "df_code"
        ),
        to_number(spec["value"]).alias("value_usd"),
        pl.lit(VALUE_BASIS[flow]).alias("value_basis"),
        pl.lit(REPORTER_ISO3).alias("reporter_iso3"),
        pl.lit(FREQ).alias("freq"),
        (to_number("CON_VAL_MO") if flow == IMPORT else pl.lit(None, dtype=pl.Float64)).alias(
            "con_value_usd"
        ),
        (to_number("GEN_CIF_MO") if flow == IMPORT else pl.lit(None, dtype=pl.Float64)).alias(
            "gen_cif_value_usd"
        ),
        to_number(spec["quantity"]).alias("quantity"),
        pl.col(UNIT).str.strip_chars().str.to_uppercase().alias("quantity_unit"),
    ).with_columns(
        pl.col("period_start").dt.strftime("%Y-%m").alias("period"),
        pl.col("period_start").dt.year().alias("year"),
        pl.col("period_start").dt.month().alias("month"),
        mass_kg(pl.col("quantity"), pl.col("quantity_unit"), pl.col("value_usd"), MASS_UNITS_TO_KG).alias(
            "net_weight_kg"
        ),
    )
    typed = typed.join(countries, on="cty_code", how="left").with_columns(
        pl.when(pl.col("is_world_partner"))
        .then(pl.lit("WLD"))
        .otherwise(pl.col("_country_iso3"))
        .alias("partner_iso3")
    )
    known_product = (
        typed.select(ROW_NUMBER, "commodity", "year")
        .join(products, left_on="commodity", right_on="product_code", how="inner")
        .filter(pl.col("year").is_between(pl.col("valid_from_year"), pl.col("valid_to_year")))
        .select(ROW_NUMBER)
        .unique()
        .with_columns(pl.lit(True).alias("_known_product"))
    )
    typed = typed.join(known_product, on=ROW_NUMBER, how="left")

    today = datetime.date.today()
    present = raw.columns
    period_rules: list[tuple[pl.Expr, str | pl.Expr]] = []
    if "time" in present and {"YEAR", "MONTH"} <= set(present):
        declared = pl.format(
            "{}-{}", pl.col("YEAR").str.strip_chars(), pl.col("MONTH").str.strip_chars().str.zfill(2)
        )
        period_rules.append(
            (
                (declared != pl.col("_time")).fill_null(True),
                pl.format("time {} does not match YEAR/MONTH {}", pl.col("_time"), declared),
            )
        )
    value_column = spec["value"]
    period_form: list = [
        *formula_rules(*[c for c in TEXT_FIELDS if c in present]),
        (
            pl.col("period_start").is_null(),
            pl.format("time {} is not YYYY-MM", pl.col("_time").fill_null("<missing>")),
        ),
        (
            ~pl.col("period_start").is_between(FIRST_MONTH, today.replace(day=1)),
            pl.format("time {} is out of range (2010-01 to this month)", pl.col("_time")),
        ),
        *period_rules,
    ]
    no_country = (pl.col("cty_code").is_null() | (pl.col("cty_code") == ""), "CTY_CODE is missing")
    unknown_partner = (
        pl.col("partner_iso3").is_null() & ~pl.col("is_grouping"),
        pl.format("unknown partner code {}", pl.col("cty_code")),
    )
    code_form = (
        ~pl.col("commodity").str.contains(r"^\d{10}$"),
        pl.format(
            "{} {} is not a 10-digit code",
            pl.lit(spec["commodity"]),
            pl.col("commodity").fill_null("<missing>"),
        ),
    )
    unknown_product = (
        pl.col("_known_product").is_null(),
        pl.format(
            "unknown product code {} for {}" + ("" if flow == IMPORT else " (exports: Schedule B lines)"),
            pl.col("commodity"),
            pl.col("year"),
        ),
    )
    value_rules: list = [
        (
            (~pl.col("df_code").is_in(DF_CODES)).fill_null(False),
            pl.format("DF {} is not 1 (domestic) or 2 (foreign)", pl.col("df_code")),
        ),
        (not_a_number(value_column), f"{value_column} is not a number"),
        (pl.col("value_usd").is_null(), f"{value_column} is missing"),
        (pl.col("value_usd") < 0, f"{value_column} is negative"),
        (
            implausible(pl.col("value_usd"), MAX_VALUE_USD),
            pl.format(f"{value_column} {{}} is implausibly large (over 1e12 USD)", pl.col(value_column)),
        ),
        *_number_rules("CON_VAL_MO", present if flow == IMPORT else []),
        *_number_rules("GEN_CIF_MO", present if flow == IMPORT else []),
        *_number_rules(spec["quantity"], present),
    ]
    rules = [*period_form, no_country, unknown_partner, code_form, unknown_product, *value_rules]
    prefixes = reference.ree_code_prefixes(NAME)
    # Out of scope: a code of digits (HS2 to HS10: a query for HS6 seafood lines gives 6) under no
    # rare-earth heading and no aggregate of one (28 holds 280530); its length is then no fault.
    code = pl.col("commodity")
    scope = pl.when(
        code.str.contains(r"^\d{2,10}$")
        & ~pl.any_horizontal(
            *[code.str.starts_with(prefix) for prefix in prefixes],
            *[pl.lit(prefix).str.starts_with(code) for prefix in prefixes],
        )
    ).then(pl.lit(NOT_REE_LINE))
    reasons = reasons_with_scope(rules, [*period_form, no_country, *value_rules], scope)
    # joins do not promise to keep row order; the file's order is the one to report in
    return finish(typed.with_columns(reasons).sort(ROW_NUMBER), LANDING_SCHEMA, raw)


# --- GX suite ---------------------------------------------------------------------------------


def suite() -> list[Expectation]:
    return [
        (
            "ExpectTableColumnsToMatchSet",
            {"column_set": list(LANDING_SCHEMA) + ["_unit_value_usd_per_kg"], "exact_match": True},
        ),
        *[
            ("ExpectColumnValuesToNotBeNull", {"column": c})
            for c in (
                "flow",
                "period",
                "period_start",
                "year",
                "month",
                "cty_code",
                "is_world_partner",
                "is_grouping",
                "commodity",
                "value_usd",
                "value_basis",
            )
        ],
        ("ExpectColumnValuesToBeInSet", {"column": "flow", "value_set": [IMPORT, EXPORT]}),
        ("ExpectColumnValuesToBeInSet", {"column": "value_basis", "value_set": list(VALUE_BASIS.values())}),
        ("ExpectColumnValuesToBeInSet", {"column": "reporter_iso3", "value_set": [REPORTER_ISO3]}),
        ("ExpectColumnValuesToBeInSet", {"column": "freq", "value_set": [FREQ]}),
        ("ExpectColumnValuesToBeInSet", {"column": "df_code", "value_set": DF_CODES}),
        ("ExpectColumnValuesToMatchRegex", {"column": "period", "regex": r"^\d{4}-(?:0[1-9]|1[0-2])$"}),
        ("ExpectColumnValuesToMatchRegex", {"column": "commodity", "regex": r"^\d{10}$"}),
        ("ExpectColumnValuesToMatchRegex", {"column": "partner_iso3", "regex": r"^[A-Z]{3}$"}),
        ("ExpectColumnValuesToBeBetween", {"column": "month", "min_value": 1, "max_value": 12}),
        ("ExpectColumnValuesToBeBetween", {"column": "value_usd", "min_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "con_value_usd", "min_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "gen_cif_value_usd", "min_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "quantity", "min_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "net_weight_kg", "min_value": 0}),
        ("ExpectCompoundColumnsToBeUnique", {"column_list": RECORD_KEY}),
        # Declared unit values of these lines sit between cents and tens of thousands of USD/kg; a
        # load where many rows fall outside is a unit or scale error (a count read as kg, say).
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
    revision_key=("flow", "period", "period_start"),
    description="US Census intltrade API JSON (imports/hs and exports/hs, array of arrays)",
    derived_for_validation={"_unit_value_usd_per_kg": pl.col("value_usd") / pl.col("net_weight_kg")},
)
