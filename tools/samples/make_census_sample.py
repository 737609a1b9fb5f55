#!/usr/bin/env python3
"""Write the committed Census samples (deterministic, standard library only).

Files written (and nothing else):

    data/samples/census/us_imports_2025.json   imports/hs response, Jan-Dec 2025, HS10 lines
    data/samples/census/us_exports_2025.json   exports/hs response, Jan-Dec 2025, with the DF split

Each file is what `time=from 2025-01 to 2025-12&COMM_LVL=HS10` returns: a JSON array of arrays,
header row first, every value a string, one row per line, predicate columns (`time`, `COMM_LVL`)
appended. Figures are synthetic but tied to the Comtrade sample: US imports from China of a line
are China's Comtrade exports to the US of the matching HS6 in the PREVIOUS month (shipping lag),
split over the HTS10 lines, with mass x 0.97-1.03 and customs value x 1.05-1.10 (the CIF/FOB
mirror gap); GEN_CIF_MO adds 1-3.5 % freight and insurance. Every "-" row (TOTAL FOR ALL
COUNTRIES) is the sum of the country rows of that line and month (per DF for exports); a
0003 EUROPEAN UNION grouping row sums the EU countries shown. 2846 imports total about 8,000 t.

Run:  python tools/samples/make_census_sample.py        (rerunnable; same bytes every time)
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 20250317
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tools.formats import census as census_format  # noqa: E402

OUT = ROOT / "data" / "samples" / "census"
COMTRADE_CHINA = ROOT / "data" / "samples" / "comtrade" / "china_exports_monthly_2023_2025.json"

MASTER = random.Random(SEED)
RNG_IMPORTS = random.Random(MASTER.getrandbits(64))
RNG_EXPORTS = random.Random(MASTER.getrandbits(64))

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
EU = {"4280", "4279", "4470"}
NAMES = {
    "-": "TOTAL FOR ALL COUNTRIES",
    "0003": "EUROPEAN UNION",
    "1220": "CANADA",
    "2010": "MEXICO",
    "4279": "FRANCE",
    "4280": "GERMANY",
    "4470": "ESTONIA",
    "5520": "VIETNAM",
    "5570": "MALAYSIA",
    "5650": "PHILIPPINES",
    "5700": "CHINA",
    "5800": "KOREA, SOUTH",
    "5880": "JAPAN",
}
ASIA = {"5520", "5570", "5650", "5700", "5800", "5880"}
DESCRIPTIONS = {
    "2805300015": "PRASEODYMIUM, WHETHER OR NOT INTERMIXED",
    "2805300020": "NEODYMIUM, WHETHER OR NOT INTERMIXED",
    "2846100000": "CERIUM COMPOUNDS",
    "2846902005": "MIXT RARE-EARTH OXIDES LANTHANUM PREDOMINANT",
    "2846902015": "MIXT RARE-EARTH OXIDES YTTRIUM/SCANDIUM PREDOMINANT",
    "2846902040": "MIXTURES OF RARE-EARTH OXIDES OR CHLORIDES, NESOI",
    "2846908000": "COMPOUNDS OF RARE-EARTH METALS, YTTRIUM, SCANDIUM, NESOI",
    "8505110030": "PERMANENT MAGNETS OF METAL, CERAMIC OR FERRITE",
    "8505110050": "PERMANENT MAGNETS OF METAL, SAMARIUM-COBALT",
    "8505110070": "PERMANENT MAGNETS OF METAL, NEODYMIUM-IRON-BORON",
    "8505110090": "PERMANENT MAGNETS OF METAL, NESOI",
}
UNITS = {code: "KG" for code in DESCRIPTIONS} | {"8505110030": "NO"}

# China's HS6 exports to the US (Comtrade, previous month) split over the HTS10 import lines.
CHINA_MIRROR = {
    "280530": {"2805300015": 0.25, "2805300020": 0.75},
    "284610": {"2846100000": 1.0},
    "284690": {"2846902005": 0.12, "2846902015": 0.08, "2846902040": 0.20, "2846908000": 0.60},
    "850511": {"8505110070": 1.0},
}
# Other imports: (line, CTY_CODE) -> (annual quantity in UNIT_QY1, USD per unit).
IMPORT_PARTNERS: dict[tuple[str, str], tuple[float, float]] = {
    ("2805300015", "5520"): (6_000, 85.0),
    ("2805300015", "5880"): (2_000, 95.0),
    ("2805300020", "5520"): (18_000, 80.0),
    ("2805300020", "5880"): (6_000, 90.0),
    ("2846100000", "5570"): (250_000, 2.8),
    ("2846100000", "4470"): (80_000, 4.5),
    ("2846100000", "5880"): (40_000, 8.0),
    ("2846100000", "4279"): (15_000, 9.0),
    ("2846100000", "4280"): (15_000, 7.0),
    ("2846902005", "5570"): (200_000, 3.0),
    ("2846902005", "4470"): (40_000, 5.0),
    ("2846902015", "5880"): (30_000, 25.0),
    ("2846902015", "4470"): (15_000, 20.0),
    ("2846902040", "5570"): (160_000, 6.0),
    ("2846902040", "5880"): (30_000, 18.0),
    ("2846902040", "4470"): (40_000, 10.0),
    ("2846908000", "5570"): (120_000, 9.0),
    ("2846908000", "5880"): (100_000, 30.0),
    ("2846908000", "4470"): (50_000, 20.0),
    ("2846908000", "5800"): (20_000, 22.0),
    ("2846908000", "4280"): (10_000, 45.0),
    ("2846908000", "4279"): (12_000, 40.0),
    ("8505110070", "5880"): (900_000, 55.0),
    ("8505110070", "5650"): (700_000, 30.0),
    ("8505110070", "5520"): (800_000, 28.0),
    ("8505110070", "5800"): (300_000, 35.0),
    ("8505110070", "4280"): (150_000, 60.0),
    ("8505110050", "5700"): (30_000, 70.0),
    ("8505110050", "5880"): (15_000, 110.0),
    ("8505110050", "4280"): (10_000, 120.0),
    ("8505110050", "4279"): (6_000, 130.0),
    ("8505110090", "5700"): (300_000, 22.0),
    ("8505110090", "5880"): (150_000, 40.0),
    ("8505110090", "5520"): (250_000, 18.0),
    ("8505110090", "5650"): (200_000, 20.0),
    ("8505110090", "5800"): (100_000, 25.0),
    ("8505110090", "4280"): (60_000, 45.0),
    # ferrite magnets are counted in pieces (UNIT_QY1 NO), never in kilograms
    ("8505110030", "5700"): (15_000_000, 0.35),
    ("8505110030", "5800"): (6_000_000, 0.50),
    ("8505110030", "5520"): (8_000_000, 0.30),
    ("8505110030", "5880"): (3_000_000, 0.80),
}
# Exports: (Schedule B line, CTY_CODE) -> (annual kg, USD per kg, share re-exported as DF 2).
EXPORT_PARTNERS: dict[tuple[str, str], tuple[float, float, float]] = {
    ("2805300020", "5880"): (3_000, 110.0, 0.0),
    ("2805300020", "5800"): (2_000, 105.0, 0.0),
    ("2846100000", "5880"): (40_000, 9.0, 0.0),
    ("2846100000", "5800"): (30_000, 8.0, 0.0),
    ("2846100000", "4280"): (20_000, 10.0, 0.0),
    ("2846100000", "1220"): (35_000, 7.5, 0.3),
    ("2846100000", "2010"): (25_000, 7.0, 0.4),
    ("2846908000", "5880"): (90_000, 35.0, 0.0),
    ("2846908000", "5800"): (60_000, 30.0, 0.0),
    ("2846908000", "5700"): (120_000, 12.0, 0.0),
    ("2846908000", "4280"): (30_000, 40.0, 0.1),
    ("2846908000", "1220"): (40_000, 25.0, 0.2),
    ("8505110070", "2010"): (600_000, 48.0, 0.35),
    ("8505110070", "1220"): (250_000, 52.0, 0.25),
    ("8505110070", "4280"): (80_000, 70.0, 0.1),
    ("8505110070", "4279"): (40_000, 72.0, 0.1),
    ("8505110070", "5700"): (60_000, 65.0, 0.0),
    ("8505110070", "5880"): (50_000, 75.0, 0.0),
    ("8505110070", "5650"): (70_000, 45.0, 0.2),
    ("8505110090", "2010"): (300_000, 30.0, 0.3),
    ("8505110090", "1220"): (150_000, 32.0, 0.2),
    ("8505110090", "4280"): (40_000, 45.0, 0.0),
    ("8505110090", "5700"): (30_000, 38.0, 0.0),
}


def previous_month(month: str) -> tuple[int, int]:
    year, number = int(month[:4]), int(month[5:])
    return (year - 1, 12) if number == 1 else (year, number - 1)


def china_exports_to_us() -> dict[tuple[str, int, int], tuple[int, int]]:
    """(hs6, year, month) -> (net kg, FOB USD) of China's monthly exports to the US (Comtrade)."""
    records = json.loads(COMTRADE_CHINA.read_text(encoding="utf-8"))["data"]
    return {
        (r["cmdCode"], r["refYear"], r["refMonth"]): (int(r["netWgt"]), int(r["primaryValue"]))
        for r in records
        if r["freqCode"] == "M" and r["flowCode"] == "X" and r["partnerCode"] == 842
    }


def import_row(rng: random.Random, line: str, cty: str, month: str, qty: int, value: int) -> dict:
    freight = rng.uniform(1.015, 1.035) if cty in ASIA else rng.uniform(1.01, 1.025)
    # Most goods enter for consumption at once; some go to bonded warehouses or FTZs first.
    share = 1.0 if rng.random() < 0.7 else rng.uniform(0.85, 0.99)
    return {
        "line": line,
        "cty": cty,
        "month": month,
        "gen_val": value,
        "con_val": round(value * share),
        "gen_cif": round(value * freight),
        "gen_qty": qty,
        "con_qty": round(qty * share),
    }


def imports() -> list[list[str]]:
    rng = RNG_IMPORTS
    china = china_exports_to_us()
    rows: list[dict] = []
    for month in MONTHS:
        year, number = previous_month(month)
        for hs6, lines in CHINA_MIRROR.items():
            kg, fob = china[(hs6, year, number)]
            for line, share in lines.items():
                qty = round(kg * share * rng.uniform(0.97, 1.03))
                value = round(fob * share * rng.uniform(1.05, 1.10))
                rows.append(import_row(rng, line, "5700", month, qty, value))
        for (line, cty), (annual, unit_value) in IMPORT_PARTNERS.items():
            if annual < 50_000 and rng.random() < 0.2:
                continue  # small suppliers do not ship every month
            qty = round(annual / 12 * rng.uniform(0.65, 1.35))
            value = round(qty * unit_value * rng.uniform(0.9, 1.1))
            rows.append(import_row(rng, line, cty, month, qty, value))
    fields = ("gen_val", "con_val", "gen_cif", "gen_qty", "con_qty")
    totals: list[dict] = []
    keys = sorted({(r["line"], r["month"]) for r in rows})
    for line, month in keys:
        members = [r for r in rows if (r["line"], r["month"]) == (line, month)]
        totals.append(
            {"line": line, "cty": "-", "month": month} | {f: sum(r[f] for r in members) for f in fields}
        )
        eu = [r for r in members if r["cty"] in EU]
        if eu:
            totals.append(
                {"line": line, "cty": "0003", "month": month} | {f: sum(r[f] for r in eu) for f in fields}
            )
    header = census_format.IMPORT_HEADER
    body = [
        [
            r["line"],
            DESCRIPTIONS[r["line"]],
            r["cty"],
            NAMES[r["cty"]],
            str(r["gen_val"]),
            str(r["con_val"]),
            str(r["gen_cif"]),
            str(r["gen_qty"]),
            str(r["con_qty"]),
            UNITS[r["line"]],
            r["month"],
            "HS10",
        ]
        for r in sorted(rows + totals, key=lambda r: (r["month"], r["line"], r["cty"]))
    ]
    return [header, *body]


def exports() -> list[list[str]]:
    rng = RNG_EXPORTS
    rows: list[dict] = []
    for month in MONTHS:
        for (line, cty), (annual, unit_value, foreign) in EXPORT_PARTNERS.items():
            if annual < 50_000 and rng.random() < 0.25:
                continue
            kg = round(annual / 12 * rng.uniform(0.6, 1.4))
            value = round(kg * unit_value * rng.uniform(0.9, 1.1))
            re_exported = foreign * rng.uniform(0.6, 1.4) if foreign else 0.0
            kg_foreign, value_foreign = round(kg * re_exported), round(value * re_exported)
            rows.append(
                {
                    "line": line,
                    "cty": cty,
                    "month": month,
                    "df": "1",
                    "val": value - value_foreign,
                    "qty": kg - kg_foreign,
                }
            )
            if kg_foreign:
                rows.append(
                    {
                        "line": line,
                        "cty": cty,
                        "month": month,
                        "df": "2",
                        "val": value_foreign,
                        "qty": kg_foreign,
                    }
                )
    totals: list[dict] = []
    for line, month, df in sorted({(r["line"], r["month"], r["df"]) for r in rows}):
        members = [r for r in rows if (r["line"], r["month"], r["df"]) == (line, month, df)]
        totals.append(
            {
                "line": line,
                "cty": "-",
                "month": month,
                "df": df,
                "val": sum(r["val"] for r in members),
                "qty": sum(r["qty"] for r in members),
            }
        )
        eu = [r for r in members if r["cty"] in EU]
        if eu:
            totals.append(
                {
                    "line": line,
                    "cty": "0003",
                    "month": month,
                    "df": df,
                    "val": sum(r["val"] for r in eu),
                    "qty": sum(r["qty"] for r in eu),
                }
            )
    header = census_format.EXPORT_HEADER
    body = [
        [
            r["line"],
            DESCRIPTIONS[r["line"]],
            r["cty"],
            NAMES[r["cty"]],
            str(r["val"]),
            str(r["qty"]),
            "KG",
            r["df"],
            r["month"],
            "HS10",
        ]
        for r in sorted(rows + totals, key=lambda r: (r["month"], r["line"], r["cty"], r["df"]))
    ]
    return [header, *body]


def write(path: Path, table: list[list[str]]) -> None:
    census_format.write(path, table)  # the API's own layout: one row per line, no spaces
    print(f"wrote {path.relative_to(ROOT)} ({len(table) - 1} rows, {path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    write(OUT / "us_imports_2025.json", imports())
    write(OUT / "us_exports_2025.json", exports())
