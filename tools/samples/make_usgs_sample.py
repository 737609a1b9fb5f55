#!/usr/bin/env python3
"""Write data/samples/usgs/mcs2025_rare_earths.csv (deterministic, standard library only).

The rare-earth rows of USGS Mineral Commodity Summaries 2025 in the long data-release layout
(`MCS chapter,Section,Commodity,Country,Statistics,Statistics_detail,Unit,Year,Value,Notes,…`),
plus a few Gallium rows to show that other commodities are kept (flagged not rare earth).

Written as the release files often are: cp1252 with CRLF line ends, so the em dash of
"Salient Statistics—United States" is the single byte 0x97. Values use the release's own
spellings: `e45,000` and `13,000 E` (estimated), `W` (withheld), `E` (net exporter), `—` (zero),
`NA`, `>90,000,000`, thousands separators, and the import-source span `2020-23` in `Year`.

US imports, import sources and average prices are the published MCS 2025 figures
(shared/reference/published-figures.md); the other figures are synthetic, scaled to published
ones. No randomness is needed: every figure is written out below.

Run:  python tools/samples/make_usgs_sample.py        (rerunnable; same bytes every time)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tools.formats import usgs as usgs_format  # noqa: E402

OUT = ROOT / "data" / "samples" / "usgs" / "mcs2025_rare_earths.csv"

HEADER = usgs_format.HEADER
SALIENT = "Salient Statistics—United States"
WORLD = "World Mine Production and Reserves"
YEARS = [2020, 2021, 2022, 2023, 2024]
ESTIMATED = "Estimated."
WITHHELD = "Withheld to avoid disclosing company proprietary data."
NET_EXPORTER = "Net exporter."

RE = ("RARE EARTHS", "Rare earths")
GA = ("GALLIUM", "Gallium")

# (statistic, detail, unit, values 2020..2024)
RE_SALIENT: list[tuple[str, str, str, list[str]]] = [
    (
        "Production",
        "Production: Mine, rare-earth-oxide (REO) equivalent",
        "metric tons",
        ["39,000", "42,000", "43,000", "41,600", "e45,000"],
    ),
    (
        "Production",
        "Production: Rare-earth compounds and metals",
        "metric tons",
        ["—", "—", "—", "W", "W"],
    ),
    (
        "Imports for consumption",
        "Imports for consumption: Compounds, REO equivalent",
        "metric tons",
        ["6,510", "7,690", "10,700", "8,920", "e8,000"],
    ),
    (
        "Imports for consumption",
        "Imports for consumption: Metals, REO equivalent",
        "metric tons",
        ["363", "580", "487", "476", "e90"],
    ),
    (
        "Price, average",
        "Price, average: Dysprosium oxide, minimum 99.5% purity",
        "dollars per kilogram",
        ["261", "410", "382", "330", "260"],
    ),
    (
        "Price, average",
        "Price, average: Terbium oxide, minimum 99.99% purity",
        "dollars per kilogram",
        ["670", "1,346", "2,051", "1,298", "810"],
    ),
    (
        "Price, average",
        "Price, average: Neodymium oxide, minimum 99.5% purity",
        "dollars per kilogram",
        ["49", "98", "134", "78", "56"],
    ),
    (
        "Price, average",
        "Price, average: Europium oxide, minimum 99.99% purity",
        "dollars per kilogram",
        ["31", "31", "30", "27", "27"],
    ),
    (
        "Net import reliance",
        "Net import reliance as a percentage of apparent consumption",
        "percent",
        ["E", "E", "E", "E", "E"],
    ),
]
RE_IMPORT_SOURCES = [("China", "70"), ("Malaysia", "13"), ("Japan", "6"), ("Estonia", "5"), ("Other", "6")]
# country: (mine production 2023, 2024, reserves 2024 or None)
RE_WORLD: list[tuple[str, str, str, str | None]] = [
    ("United States", "41,600", "45,000 E", "1,900,000"),
    ("Australia", "16,000", "13,000 E", "5,700,000"),
    ("Brazil", "140", "20 E", "21,000,000"),
    ("Burma", "43,000", "31,000 E", "NA"),
    ("China", "255,000", "270,000", "44,000,000"),
    ("Greenland", "—", "—", "1,500,000"),
    ("India", "2,900", "2,900 E", "6,900,000"),
    ("Madagascar", "2,100", "2,000 E", None),
    ("Malaysia", "130", "130 E", None),
    ("Nigeria", "7,200", "13,000 E", None),
    ("Russia", "2,500", "2,500 E", "3,800,000"),
    ("Thailand", "3,600", "13,000 E", None),
    ("Vietnam", "300", "300 E", "3,500,000"),
    ("World total (rounded)", "376,000", "390,000 E", ">90,000,000"),
]
CHINA_NOTE = "Production quota; does not include undocumented production."

GA_SALIENT: list[tuple[str, str, str, list[str]]] = [
    ("Production", "Production: Primary", "kilograms", ["—", "—", "—", "—", "—"]),
    (
        "Imports for consumption",
        "Imports for consumption: Metal",
        "kilograms",
        ["14,600", "18,500", "17,600", "12,300", "e15,000"],
    ),
    ("Stocks", "Stocks, consumer, yearend", "kilograms", ["W", "W", "W", "W", "W"]),
    (
        "Net import reliance",
        "Net import reliance as a percentage of apparent consumption",
        "percent",
        ["100", "100", "100", "100", "100"],
    ),
]
GA_WORLD = [
    ("China", "735,000", "750,000 E"),
    ("Japan", "3,000", "3,000 E"),
    ("Russia", "5,000", "5,000 E"),
    ("World total (rounded)", "743,000", "760,000 E"),
]


def note_for(value: str) -> str:
    if value == "W":
        return WITHHELD
    if value == "E":
        return NET_EXPORTER
    if value.startswith("e") or value.endswith(" E"):
        return ESTIMATED
    return ""


def rows() -> list[list[str]]:
    out: list[list[str]] = []

    def add(chapter, section, country, statistic, detail, unit, year, value, notes="", other=""):
        out.append(
            [chapter[0], section, chapter[1], country, statistic, detail, unit, str(year), value]
            + [notes or note_for(value), "Yes", other]
        )

    for statistic, detail, unit, values in RE_SALIENT:
        for year, value in zip(YEARS, values, strict=True):
            add(RE, SALIENT, "United States", statistic, detail, unit, year, value)
    for country, share in RE_IMPORT_SOURCES:
        add(
            RE,
            SALIENT,
            country,
            "Import sources",
            "Import sources (2020–23): Rare-earth compounds and metals",
            "percent",
            "2020-23",
            share,
            other="Share of the value of US imports of rare-earth compounds and metals.",
        )
    for country, production_2023, production_2024, reserves in RE_WORLD:
        for year, value in ((2023, production_2023), (2024, production_2024)):
            notes = CHINA_NOTE if country == "China" else ""
            add(
                RE,
                WORLD,
                country,
                "Production",
                "Mine production, rare-earth-oxide equivalent",
                "metric tons",
                year,
                value,
                notes,
            )
        if reserves is not None:
            add(
                RE,
                WORLD,
                country,
                "Reserves",
                "Reserves, rare-earth-oxide equivalent",
                "metric tons",
                2024,
                reserves,
            )
    for statistic, detail, unit, values in GA_SALIENT:
        for year, value in zip(YEARS, values, strict=True):
            add(GA, SALIENT, "United States", statistic, detail, unit, year, value)
    for country, production_2023, production_2024 in GA_WORLD:
        for year, value in ((2023, production_2023), (2024, production_2024)):
            add(GA, WORLD, country, "Production", "Primary production", "kilograms", year, value)
    return out


def main() -> None:
    usgs_format.write(OUT, rows())  # cp1252, CRLF, as USGS publishes it
    print(f"wrote {OUT.relative_to(ROOT)} ({len(rows())} rows)")


if __name__ == "__main__":
    main()
