"""The wide USGS MCS layouts, turned into the rows of the long data-release layout.

USGS has published, for every edition, one CSV pair per commodity on ScienceBase and a few CSVs
of the summary tables and figures; the consolidated long file came only with MCS 2025. Each
layout is recognised by its header and each statistic cell becomes one long row, with the
columns of the long layout (`MCS chapter`, `Section`, …, `Value`, `Notes`) plus:

- `MCS edition`: the `DataSource`/`Source` cell (`MCS2024`), or the file name's when the cell is
  empty; a file name that names another edition than the cells is refused;
- `Source field`, `Source line`: the header cell and the CSV record the value came from;
- `Out of scope`: why a row is outside the product's scope (a commodity that is not a rare
  earth, yttrium or scandium), null when in scope.

The layouts:

- salient (`DataSource, Commodity, Year, <Statistic>_<Detail…>_<unit>, …`): one column per
  statistic, the unit the last token of its name (`t` metric tons, `pct` percent, `dkg` dollars
  per kilogram, `dg` dollars per gram, `num` number). Two names in the release are wrong and
  corrected: net import reliance (`NIR_…`) is a percent whatever its suffix (MCS2024 writes
  `NIR_Compounds-Metals_t`), and employment is a number of people (MCS2024 `Employment_m`).
  The statistic, detail and unit do not carry the suffix, so `NIR_…_pct` (MCS2023) and
  `NIR_…_t` (MCS2024) are the same statistic for the revision rule.
- world (`Source, Country, Type, Prod_t_[est_]YYYY…, Prod_notes, Reserves_t, Reserves_notes`):
  production per country and year (`est`/`Est` marks the year's figures estimated) and reserves,
  dated to the file's latest production year (the MCS table sets them beside it). The commodity
  comes from the file name's code (`mcs2024-raree_world.csv`: rare earths).
- MCS table 5 (`Source, Year, Critical_mineral, Primary_prod, …`, misspellings included):
  U.S. primary and secondary production, apparent consumption, net import reliance, the primary
  import source (a rank-1 row for that country, over the period its note names), the leading
  producing country's production and share of world production, and world production (a total).
- MCS figure 2 (`Source, Import_Share_Order, Commodity, Net_Import_Reliance_pct_YYYY,
  Major_Import_Sources_YYYY_YYYY, Notes`): net import reliance, and one row per listed import
  source with its rank in the list (the figure lists them by descending import share).
- MCS figure 3 (`Source, Country, Commodity_Count, Map_Class`): the number of mineral
  commodities for which a country is a major import source; not a rare-earth statistic, so every
  row is out of scope. The file gives no years: the period is figure 2's (edition−5 to edition−2).

Blank rows, and unnamed columns with no value in any row (trailing commas), carry nothing and
are skipped; an unnamed column that holds a value is refused, as is a column the layout does
not know (a value would otherwise be dropped silently).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dagster_project.sources.contract import ROW_NUMBER, SourceFileError
from dagster_project.sources.rules import numbered

EDITION = "MCS edition"
SOURCE_FIELD = "Source field"
SOURCE_LINE = "Source line"
OUT_OF_SCOPE_REASON = "Out of scope"
LONG_COLUMNS = [
    "MCS chapter",
    "Section",
    "Commodity",
    "Country",
    "Statistics",
    "Statistics_detail",
    "Unit",
    "Year",
    "Value",
    "Notes",
    "Other notes",
]
EXTRA_COLUMNS = [EDITION, SOURCE_FIELD, SOURCE_LINE, OUT_OF_SCOPE_REASON]

IN_SCOPE = r"(?i)rare[\s-]*earth|yttrium|scandium"
US = "United States"
SALIENT_SECTION = "Salient Statistics—United States"
WORLD_SECTION = "World Mine Production and Reserves"
T5_SECTION = "Table 5—Salient Statistics for Critical Minerals"
FIG2_SECTION = "Figure 2—Net Import Reliance"
FIG3_SECTION = "Figure 3—Major Import Sources"

UNITS = {
    "t": "metric tons",
    "kt": "thousand metric tons",
    "pct": "percent",
    "dkg": "dollars per kilogram",
    "dg": "dollars per gram",
    "num": "number",
    "kg": "kilograms",
}
PERCENT, PEOPLE, RANK = "percent", "number of employees", "rank"
STATISTICS = {
    "usprod": "Production",
    "imports": "Imports for consumption",
    "exports": "Exports",
    "consump": "Consumption, apparent",
    "price": "Price, average",
    "employment": "Employment",
    "nir": "Net import reliance",
    "stocks": "Stocks",
}
# The commodity code in a per-commodity file name (`mcs2024-raree_world.csv`).
COMMODITY_CODES = {"raree": "Rare earths", "yttri": "Yttrium", "scand": "Scandium"}
_EDITION_IN_NAME = re.compile(r"(?i)mcs[\s_-]?(\d{4})")
_CODE_IN_NAME = re.compile(r"(?i)mcs\d{4}-([a-z]+)_(?:salient|world)")


@dataclass(frozen=True)
class Layout:
    name: str
    matches: Callable[[list[str]], bool]
    to_long: Callable[[Path, pl.DataFrame], list[pl.DataFrame]]


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "_", name.strip().lower())


def edition_in_name(path: Path) -> str | None:
    found = _EDITION_IN_NAME.search(path.name)
    return found.group(1) if found else None


def sentence_case(expr: pl.Expr) -> pl.Expr:
    """`Rare Earths`, `RARE EARTHS, compounds and metals` → `Rare earths…`: one spelling a key."""
    text = expr.str.strip_chars()
    return pl.concat_str(text.str.slice(0, 1).str.to_uppercase(), text.str.slice(1).str.to_lowercase())


def _rows(
    wide: pl.DataFrame,
    field: str,
    *,
    section: str,
    statistic: str | pl.Expr,
    detail: str | pl.Expr,
    unit: str,
    year: str | pl.Expr,
    commodity: pl.Expr,
    country: str | pl.Expr = US,
    value: pl.Expr | None = None,
    notes: pl.Expr | None = None,
    other_notes: str | pl.Expr | None = None,
    out_of_scope: pl.Expr | None = None,
) -> pl.DataFrame:
    """One long row per wide row for the statistic in column `field`."""

    def lit(item: str | pl.Expr | None) -> pl.Expr:
        return item if isinstance(item, pl.Expr) else pl.lit(item, dtype=pl.String)

    commodity = commodity.alias("Commodity")
    scope = (
        out_of_scope
        if out_of_scope is not None
        else pl.when(~pl.col("Commodity").str.contains(IN_SCOPE).fill_null(False)).then(
            # One reason text per section (not per commodity), so the counts per reason stay few.
            pl.lit(f"commodity other than rare earths, yttrium or scandium ({section})")
        )
    )
    return (
        wide.select(
            commodity,
            pl.col(EDITION),
            pl.col(ROW_NUMBER).cast(pl.String).alias(SOURCE_LINE),
            lit(section).alias("Section"),
            lit(country).alias("Country"),
            lit(statistic).alias("Statistics"),
            lit(detail).alias("Statistics_detail"),
            lit(unit).alias("Unit"),
            lit(year).alias("Year"),
            (value if value is not None else pl.col(field)).alias("Value"),
            lit(notes).alias("Notes"),
            lit(other_notes).alias("Other notes"),
            pl.lit(field).alias(SOURCE_FIELD),
        )
        .with_columns(
            pl.col("Commodity").str.to_uppercase().alias("MCS chapter"),
            scope.alias(OUT_OF_SCOPE_REASON),
        )
        .select(*LONG_COLUMNS, *EXTRA_COLUMNS)
    )


def _unknown(path: Path, columns: list[str], known: list[str]) -> None:
    unknown = [c for c in columns if _key(c) not in {_key(k) for k in known}]
    if unknown:
        raise SourceFileError(
            path,
            f"column(s) {', '.join(unknown)} are not part of this USGS layout; their values would be lost",
        )


def _col(wide: pl.DataFrame, *names: str) -> str | None:
    keys = {_key(c): c for c in wide.columns}
    return next((keys[_key(n)] for n in names if _key(n) in keys), None)


# --- salient ------------------------------------------------------------------------------------


def _salient_matches(header: list[str]) -> bool:
    return [_key(c) for c in header[:3]] == ["datasource", "commodity", "year"]


def _salient(path: Path, wide: pl.DataFrame) -> list[pl.DataFrame]:
    frames = []
    commodity = sentence_case(pl.col(_col(wide, "Commodity") or "Commodity"))
    year = pl.col(_col(wide, "Year") or "Year")
    for field in wide.columns:
        if _key(field) in ("datasource", "commodity", "year", _key(ROW_NUMBER), _key(EDITION)):
            continue
        parts = field.strip().split("_")
        prefix = parts[0]
        statistic = STATISTICS.get(prefix.lower(), prefix)
        unit_token = parts[-1] if len(parts) > 1 else ""
        middle = parts[1:-1]
        other = None
        if prefix.lower() == "nir":
            unit = PERCENT
            if unit_token.lower() != "pct":
                other = f"unit '_{unit_token}' in the column name read as percent (net import reliance)"
        elif prefix.lower() == "employment":
            unit = PEOPLE
        elif unit_token.lower() in UNITS:
            unit = UNITS[unit_token.lower()]
        else:
            raise SourceFileError(
                path,
                f"column {field!r} does not end in a unit this parser knows "
                f"({', '.join('_' + u for u in UNITS)}); its values cannot be landed without one",
            )
        detail = f"{statistic}: {' '.join(middle)}" if middle else statistic
        frames.append(
            _rows(
                wide,
                field,
                section=SALIENT_SECTION,
                statistic=statistic,
                detail=detail,
                unit=unit,
                year=year,
                commodity=commodity,
                other_notes=other,
            )
        )
    return frames


# --- world --------------------------------------------------------------------------------------

_PRODUCTION = re.compile(r"(?i)^prod_([a-z]+)_(?:(est)_)?(\d{4})$")
_RESERVES = re.compile(r"(?i)^reserves_(?!notes$)([a-z]+)$")


def _world_matches(header: list[str]) -> bool:
    keys = [_key(c) for c in header]
    return keys[:3] == ["source", "country", "type"] and any(_PRODUCTION.match(c) for c in header)


def _world_commodity(path: Path, wide: pl.DataFrame) -> pl.Expr:
    found = _CODE_IN_NAME.search(path.name)
    if found and found.group(1).lower() in COMMODITY_CODES:
        return pl.lit(COMMODITY_CODES[found.group(1).lower()])
    types = wide["Type"].drop_nulls().unique().to_list() if "Type" in wide.columns else []
    if types and all(re.search(r"(?i)rare[\s-]*earth", t) for t in types):
        return pl.lit("Rare earths")
    if found:
        return pl.lit(found.group(1).lower())
    raise SourceFileError(
        path,
        "cannot tell the commodity of this world table: the file name has no MCS code "
        "(mcs2024-raree_world.csv) and Type does not name it",
    )


def _world(path: Path, wide: pl.DataFrame) -> list[pl.DataFrame]:
    columns = [c for c in wide.columns if c not in (ROW_NUMBER, EDITION)]
    production = [(c, _PRODUCTION.match(c)) for c in columns if _PRODUCTION.match(c)]
    reserves = [(c, _RESERVES.match(c)) for c in columns if _RESERVES.match(c)]
    notes = {_key(c): c for c in columns if _key(c).endswith("_notes")}
    known = ["Source", "Country", "Type", *(c for c, _ in production + reserves), *notes.values()]
    _unknown(path, columns, known)
    commodity = _world_commodity(path, wide)
    country = pl.col("Country").str.replace_all("\u00a0", " ").str.strip_chars()
    latest = max(int(m.group(3)) for _, m in production)
    # The Type text ("Rare earths, mine production, rare-earth-oxide equivalent, metric tons")
    # words the statistic differently in each edition: kept in other notes, not in the key.
    other = pl.col("Type").str.strip_chars()
    frames = []
    for field, match in production:
        unit_token, estimated, year = match.group(1).lower(), match.group(2), match.group(3)
        frames.append(
            _rows(
                wide,
                field,
                section=WORLD_SECTION,
                statistic="Production",
                detail="Mine production",
                unit=UNITS.get(unit_token, unit_token),
                year=f"{year}_estimated" if estimated else year,
                commodity=commodity,
                country=country,
                notes=pl.col(notes["prod_notes"]) if "prod_notes" in notes else None,
                other_notes=other,
            )
        )
    for field, match in reserves:
        frames.append(
            _rows(
                wide,
                field,
                section=WORLD_SECTION,
                statistic="Reserves",
                detail="Reserves",
                unit=UNITS.get(match.group(1).lower(), match.group(1)),
                year=str(latest),
                commodity=commodity,
                country=country,
                notes=pl.col(notes["reserves_notes"]) if "reserves_notes" in notes else None,
                other_notes=other,
            )
        )
    return frames


# --- MCS table 5 --------------------------------------------------------------------------------

T5_COLUMNS = {
    "primary_prod": "Primary_prod",
    "secondary_prod": "Secondary_prod",
    "prod_notes": "Prod_notes",
    "consumption": ("Apparent_Consuption", "Apparent_Consumption"),
    "consumption_notes": ("Contsumption_Notes", "Consumption_Notes"),
    "nir": "Net_Import_Reliance",
    "import_source": "Primary_import_source",
    "import_source_notes": "Import_source_notes",
    "leading_country": "Leading_source_country",
    "leading_prod": "Leading_country_prod",
    "world_prod": "World_total_prod",
    "world_notes": "World_prod_notes",
    "leading_share": ("Leading_source_precent_world", "Leading_source_percent_world"),
}


def _t5_matches(header: list[str]) -> bool:
    return [_key(c) for c in header[:3]] == ["source", "year", "critical_mineral"]


def _t5(path: Path, wide: pl.DataFrame) -> list[pl.DataFrame]:
    names: dict[str, str] = {}
    for role, spellings in T5_COLUMNS.items():
        found = _col(wide, *((spellings,) if isinstance(spellings, str) else spellings))
        if found is None:
            raise SourceFileError(path, f"MCS table 5 without its column {spellings!r}")
        names[role] = found
    _unknown(
        path,
        [c for c in wide.columns if c not in (ROW_NUMBER, EDITION)],
        ["Source", "Year", "Critical_mineral", *names.values()],
    )
    commodity = sentence_case(pl.col(_col(wide, "Critical_mineral") or ""))
    year = pl.col(_col(wide, "Year") or "Year")
    # "Average 2019 to 2022." in the import-source note gives that row its period.
    period = pl.col(names["import_source_notes"]).str.extract(r"(\d{4})\s+to\s+(\d{4})", 0)
    span = pl.coalesce(period.str.replace(r"\s+to\s+", "-"), year)

    def country(role: str) -> pl.Expr:
        text = pl.col(names[role]).str.strip_chars()
        return pl.when(text.is_in(["NA", "XX", ""])).then(pl.lit("Not available")).otherwise(text)

    leading = country("leading_country")
    # The file gives no unit: quantities are in metric tons, as MCS tables are unless noted.
    tons_note = "unit not in the file: MCS table 5 quantities are metric tons unless noted"
    common = {"wide": wide, "section": T5_SECTION, "commodity": commodity}
    return [
        _rows(
            field=names["primary_prod"],
            statistic="Production",
            detail="Production: Primary",
            unit=UNITS["t"],
            other_notes=tons_note,
            year=year,
            notes=pl.col(names["prod_notes"]),
            **common,
        ),
        _rows(
            field=names["secondary_prod"],
            statistic="Production",
            detail="Production: Secondary",
            unit=UNITS["t"],
            other_notes=tons_note,
            year=year,
            notes=pl.col(names["prod_notes"]),
            **common,
        ),
        _rows(
            field=names["consumption"],
            statistic="Consumption, apparent",
            detail="Consumption, apparent",
            unit=UNITS["t"],
            other_notes=tons_note,
            year=year,
            notes=pl.col(names["consumption_notes"]),
            **common,
        ),
        _rows(
            field=names["nir"],
            statistic="Net import reliance",
            detail="Net import reliance",
            unit=PERCENT,
            year=year,
            **common,
        ),
        _rows(
            field=names["import_source"],
            statistic="Import sources",
            detail="Import sources: primary source",
            unit=RANK,
            year=span,
            country=country("import_source"),
            value=pl.when(pl.col(names["import_source"]).str.strip_chars().is_in(["NA", "XX", ""]))
            .then(pl.col(names["import_source"]))
            .otherwise(pl.lit("1")),
            notes=pl.col(names["import_source_notes"]),
            **common,
        ),
        _rows(
            field=names["leading_prod"],
            statistic="Production, leading country",
            detail="Production, leading country",
            unit=UNITS["t"],
            other_notes=tons_note,
            year=year,
            country=leading,
            notes=pl.col(names["world_notes"]),
            **common,
        ),
        _rows(
            field=names["leading_share"],
            statistic="Share of world production",
            detail="Share of world production, leading country",
            unit=PERCENT,
            year=year,
            country=leading,
            **common,
        ),
        _rows(
            field=names["world_prod"],
            statistic="Production, world",
            detail="Production, world",
            unit=UNITS["t"],
            other_notes=tons_note,
            year=year,
            country="World total",
            notes=pl.col(names["world_notes"]),
            **common,
        ),
    ]


# --- MCS figures 2 and 3 ------------------------------------------------------------------------

_FIG2_NIR = re.compile(r"(?i)^net_import_reliance_pct_(\d{4})$")
_FIG2_SOURCES = re.compile(r"(?i)^major_import_sources_(\d{4})_(\d{4})$")


def _fig2_matches(header: list[str]) -> bool:
    return bool(header) and _key(header[0]) == "source" and any(_FIG2_NIR.match(c) for c in header)


def _fig2(path: Path, wide: pl.DataFrame) -> list[pl.DataFrame]:
    columns = [c for c in wide.columns if c not in (ROW_NUMBER, EDITION)]
    nir = next(c for c in columns if _FIG2_NIR.match(c))
    sources = next((c for c in columns if _FIG2_SOURCES.match(c)), None)
    _unknown(
        path,
        columns,
        ["Source", "Import_Share_Order", "Commodity", "Notes", nir, *([sources] if sources else [])],
    )
    commodity = sentence_case(pl.col("Commodity"))
    notes = pl.col("Notes") if "Notes" in wide.columns else None
    year = _FIG2_NIR.match(nir).group(1)  # type: ignore[union-attr]
    frames = [
        _rows(
            wide,
            nir,
            section=FIG2_SECTION,
            statistic="Net import reliance",
            detail="Net import reliance",
            unit=PERCENT,
            year=year,
            commodity=commodity,
            notes=notes,
        )
    ]
    if sources:
        first, last = _FIG2_SOURCES.match(sources).groups()  # type: ignore[union-attr]
        listed = (
            wide.with_columns(pl.col(sources).str.split(",").alias("_listed"))
            .with_columns(pl.int_ranges(1, pl.col("_listed").list.len() + 1).alias("_rank"))
            .explode("_listed", "_rank")
            .with_columns(pl.col("_listed").str.strip_chars(), pl.col("_rank").cast(pl.String))
            .filter(pl.col("_listed").is_not_null() & (pl.col("_listed") != ""))
        )
        frames.append(
            _rows(
                listed,
                sources,
                section=FIG2_SECTION,
                statistic="Import sources",
                detail="Import sources: rank by import share",
                unit=RANK,
                year=f"{first}-{last}",
                commodity=commodity,
                country=pl.col("_listed"),
                value=pl.col("_rank"),
                notes=notes,
            )
        )
    return frames


def _fig3_matches(header: list[str]) -> bool:
    return [_key(c) for c in header[:3]] == ["source", "country", "commodity_count"]


def _fig3(path: Path, wide: pl.DataFrame) -> list[pl.DataFrame]:
    columns = [c for c in wide.columns if c not in (ROW_NUMBER, EDITION)]
    _unknown(path, columns, ["Source", "Country", "Commodity_Count", "Map_Class"])
    edition = pl.col(EDITION).str.extract(r"(\d{4})").cast(pl.Int32, strict=False)
    period = pl.format("{}-{}", edition - 5, edition - 2)
    return [
        _rows(
            wide,
            "Commodity_Count",
            section=FIG3_SECTION,
            statistic="Major import source count",
            detail="Mineral commodities with this country as a major import source",
            unit="commodities",
            year=period,
            commodity=pl.lit("Nonfuel mineral commodities"),
            country=pl.col("Country").str.strip_chars(),
            notes=pl.format("map class {}", pl.col("Map_Class")) if "Map_Class" in wide.columns else None,
            out_of_scope=pl.lit(
                f"a count over all mineral commodities, not a rare-earth statistic ({FIG3_SECTION})"
            ),
        )
    ]


LAYOUTS = [
    Layout("salient", _salient_matches, _salient),
    Layout("world", _world_matches, _world),
    Layout("table 5", _t5_matches, _t5),
    Layout("figure 2", _fig2_matches, _fig2),
    Layout("figure 3", _fig3_matches, _fig3),
]


def detect(header: list[str]) -> Layout | None:
    return next((layout for layout in LAYOUTS if layout.matches(header)), None)


def to_long(path: Path, layout: Layout, header: list[str], frame: pl.DataFrame) -> pl.DataFrame:
    """The wide `frame` (every cell a string, numbered rows; `header` as the file writes it) as long
    rows, numbered again from 1 (one row per statistic cell)."""
    data = [c for c in frame.columns if c != ROW_NUMBER]
    named = dict(zip(data, header, strict=False))
    for column in data:
        if not named.get(column, "").strip():
            if frame[column].str.strip_chars().replace("", None).drop_nulls().len():
                raise SourceFileError(
                    path, f"an unnamed column (position {data.index(column) + 1}) holds values; name it"
                )
            frame = frame.drop(column)
    cells = [c for c in frame.columns if c != ROW_NUMBER]
    blank = pl.all_horizontal(pl.col(c).str.strip_chars().replace("", None).is_null() for c in cells)
    frame = frame.filter(~blank)
    source = cells[0]
    in_name = edition_in_name(path)
    in_cells = frame[source].str.extract(r"(?i)^\s*mcs\s*(\d{4})\s*$").drop_nulls().unique().to_list()
    if in_name and in_cells and in_cells != [in_name]:
        raise SourceFileError(
            path, f"the file name says MCS {in_name} but its {source} column says MCS {', '.join(in_cells)}"
        )
    # A Source cell left empty (USGS's revision notes for MCS2024 silver) takes the file name's.
    cell = pl.col(source).str.strip_chars()
    frame = frame.with_columns(
        pl.coalesce(pl.when(cell != "").then(cell), pl.lit(in_name, dtype=pl.String)).alias(EDITION)
    )
    parts = layout.to_long(path, frame)
    long = pl.concat(parts, how="vertical").with_columns(pl.col(SOURCE_LINE).cast(pl.Int64).alias("_line"))
    long = long.with_row_index("_cell").sort("_line", "_cell", maintain_order=True).drop("_line", "_cell")
    return numbered(long)
