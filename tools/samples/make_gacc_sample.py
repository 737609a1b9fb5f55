#!/usr/bin/env python3
"""Write the GACC sample: China's 2025 rare-earth exports as the customs query platform exports them.

Files written (and nothing else), one per period, GBK CSV with CRLF line ends, Chinese headers,
values in 人民币 (CNY) with thousands separators, quoted:

    data/samples/gacc/exports/china_exports_2025_01-02.csv   January+February combined (202501-02)
    data/samples/gacc/exports/china_exports_2025_03.csv      March ... and so on to
    data/samples/gacc/exports/china_exports_2025_12.csv      December

Lines: the element-specific national lines (Nd/Dy/Tb metal, Nd/Dy/Tb/Pr oxide, Dy chloride and
fluoride, cerium oxide, other oxides) and rare-earth magnets 8505111000, to the ten partners with a
GACC code in the seed countries, plus the world total 总值 (no partner code).

Consistency with the other samples (read from them, so the files agree by construction):
- 8505111000 equals Comtrade 850511 in data/samples/comtrade/china_exports_monthly_2023_2025.json
  for every partner and for World: the same kg, and CNY = round(USD x the month's average CNY
  rate from data/samples/fx/fx_rates_2020_2025.csv). January+February is one row per partner:
  kg = Jan + Feb, CNY = round(USD_Jan x rate_Jan + USD_Feb x rate_Feb).
- The other lines are slices of the Comtrade HS6 totals (kg per partner below Comtrade's), priced
  near the FOB China assessments in data/samples/prices/benchmark_prices_2020_2025.csv.
- Dy and Tb lines collapse after the April 2025 licensing rule (mofcom-gacc-2025-18, 4 April) and
  recover partly from June.

Run:  python tools/samples/make_gacc_sample.py        (rerunnable; same bytes every time)
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

SEED = 20250404
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tools.formats import gacc as gacc_format  # noqa: E402

SAMPLES = ROOT / "data" / "samples"
OUT = SAMPLES / "gacc" / "exports"
YEAR = 2025

HEADER = gacc_format.HEADER
# Comtrade M49 → (GACC code, GACC name), as in dbt/seeds/countries.csv.
PARTNERS = {
    842: ("502", "美国"),
    392: ("116", "日本"),
    410: ("133", "韩国"),
    704: ("141", "越南"),
    276: ("304", "德国"),
    528: ("309", "荷兰"),
    699: ("111", "印度"),
    764: ("136", "泰国"),
    458: ("122", "马来西亚"),
    380: ("307", "意大利"),
}
WORLD = 0
MAGNETS = "8505111000"

# product code → (name as on the platform, Comtrade HS6 it is a slice of, share of that HS6's kg,
# price: ("fob", product name in the price sheet, factor) or ("usd", USD/kg), licence-controlled).
LINES: dict[str, tuple[str, str, float, tuple, bool]] = {
    "28053011": ("钕", "280530", 0.34, ("fob", "Neodymium oxide 99.5% min", 1.24), False),
    "28053012": ("镝", "280530", 0.010, ("fob", "Dysprosium metal 99.5% min", 1.0), True),
    "28053013": ("铽", "280530", 0.0022, ("fob", "Terbium metal 99.9% min", 1.0), True),
    "28461010": ("氧化铈", "284610", 0.80, ("comtrade", None, 1.0), False),
    "28469013": ("氧化钕", "284690", 0.030, ("fob", "Neodymium oxide 99.5% min", 1.0), False),
    "28469015": ("氧化镝", "284690", 0.0040, ("fob", "Dysprosium oxide 99.5% min", 1.0), True),
    "28469016": ("氧化铽", "284690", 0.0008, ("fob", "Terbium oxide 99.99% min", 1.0), True),
    "28469017": ("氧化镨", "284690", 0.010, ("fob", "Praseodymium oxide 99.5% min", 1.0), False),
    "28469022": ("氯化镝", "284690", 0.0005, ("fob", "Dysprosium oxide 99.5% min", 0.62), True),
    "28469032": ("氟化镝", "284690", 0.0010, ("fob", "Dysprosium oxide 99.5% min", 0.90), True),
    "2846901999": ("其他氧化稀土", "284690", 0.080, ("usd", None, 18.0), False),
    MAGNETS: ("稀土永磁铁", "850511", 1.0, ("comtrade", None, 1.0), False),
}
# Share of the pre-control level shipped under licence, by month (Dy and Tb lines only).
LICENSED = {1: 1.0, 2: 1.0, 3: 1.0, 4: 0.45, 5: 0.03, 6: 0.22, 7: 0.35, 8: 0.42, 9: 0.45}
LICENSED |= {10: 0.48, 11: 0.52, 12: 0.55}
# Licences reached US buyers later and less.
LICENSED_USA = {m: (f if m < 4 else f * 0.5) for m, f in LICENSED.items()}


def monthly_cny_rates() -> dict[int, float]:
    """The average of each 2025 month's daily CNY per USD rates (what dbt's monthly average is)."""
    days: dict[int, list[float]] = defaultdict(list)
    with open(SAMPLES / "fx" / "fx_rates_2020_2025.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            date = dt.date.fromisoformat(row["date"])
            if row["currency"] == "CNY" and date.year == YEAR:
                days[date.month].append(float(row["per_usd"]))
    return {month: sum(rates) / len(rates) for month, rates in days.items()}


def fob_mid() -> dict[tuple[str, int], float]:
    """The mean mid FOB China price (USD/kg) of each product and 2025 month."""
    mids: dict[tuple[str, int], list[float]] = defaultdict(list)
    with open(SAMPLES / "prices" / "benchmark_prices_2020_2025.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            date = dt.date.fromisoformat(row["date"])
            if row["basis"] == "fob_china" and date.year == YEAR and row["unit"] == "kg":
                mids[(row["product"], date.month)].append((float(row["low"]) + float(row["high"])) / 2)
    return {key: sum(values) / len(values) for key, values in mids.items()}


def comtrade_exports() -> dict[tuple[str, int, int], tuple[int, int]]:
    """(hs6, partner m49, month) → (kg, USD) of China's 2025 monthly exports in the Comtrade sample."""
    payload = json.loads(
        (SAMPLES / "comtrade" / "china_exports_monthly_2023_2025.json").read_text(encoding="utf-8")
    )
    flows = {}
    for r in payload["data"]:
        if (r["freqCode"], r["refYear"], r["flowCode"]) == ("M", YEAR, "X"):
            flows[(r["cmdCode"], r["partnerCode"], r["refMonth"])] = (
                int(r["netWgt"]),
                int(r["primaryValue"]),
            )
    return flows


grouped = gacc_format.grouped


def build() -> dict[str, list[list[str]]]:
    rng = random.Random(SEED)
    rates = monthly_cny_rates()
    prices = fob_mid()
    comtrade = comtrade_exports()

    # (code, partner, month) → (kg, USD), the monthly figures before Jan and Feb are combined.
    monthly: dict[tuple[str, int, int], tuple[int, float]] = {}
    for code, (_name, hs6, share, price, controlled) in LINES.items():
        for month in range(1, 13):
            partner_kg: dict[int, int] = {}
            for m49 in PARTNERS:
                if code == MAGNETS:
                    partner_kg[m49] = comtrade[(hs6, m49, month)][0]
                    continue
                base = comtrade.get((hs6, m49, month), (0, 0))[0]
                factor = (LICENSED_USA if m49 == 842 else LICENSED)[month] if controlled else 1.0
                partner_kg[m49] = round(base * share * factor * rng.uniform(0.8, 1.2))
            if code == MAGNETS:
                world_kg = comtrade[(hs6, WORLD, month)][0]
            else:
                # World = listed partners + a slice of what Comtrade's World has beyond them.
                listed = sum(comtrade.get((hs6, m49, month), (0, 0))[0] for m49 in PARTNERS)
                rest = comtrade[(hs6, WORLD, month)][0] - listed
                assert rest >= 0, (hs6, month)
                factor = LICENSED[month] if controlled else 1.0
                world_kg = sum(partner_kg.values()) + round(rest * share * factor * rng.uniform(0.8, 1.2))
            for m49, kg in [*partner_kg.items(), (WORLD, world_kg)]:
                if code == MAGNETS:
                    usd = float(comtrade[(hs6, m49, month)][1])
                elif m49 == WORLD:
                    continue  # summed from the partner values below
                elif kg == 0:
                    usd = 0.0
                else:
                    kind, product, multiple = price
                    if kind == "fob":
                        unit = prices[(product, month)] * multiple
                    elif kind == "comtrade":
                        c_kg, c_usd = comtrade[(hs6, m49, month)]
                        unit = c_usd / c_kg
                    else:
                        unit = multiple
                    usd = round(kg * unit * rng.uniform(0.94, 1.06))
                monthly[(code, m49, month)] = (kg, usd)
            if code != MAGNETS:
                # The world value: partners' values plus the rest at the line's mean unit value.
                partner_usd = sum(monthly[(code, m49, month)][1] for m49 in PARTNERS)
                partner_total_kg = sum(partner_kg.values())
                unit = partner_usd / partner_total_kg if partner_total_kg else 0.0
                monthly[(code, WORLD, month)] = (
                    world_kg,
                    partner_usd + round((world_kg - partner_total_kg) * unit),
                )

    files: dict[str, list[list[str]]] = {}
    for months, period_text, file_period in [((1, 2), "202501-02", "01-02")] + [
        ((m,), f"{YEAR}{m:02d}", f"{m:02d}") for m in range(3, 13)
    ]:
        rows = []
        for code, (name, *_rest) in LINES.items():
            for m49 in [WORLD, *PARTNERS]:
                kg = sum(monthly[(code, m49, m)][0] for m in months)
                cny = sum(monthly[(code, m49, m)][1] * rates[m] for m in months)
                if kg == 0:
                    continue  # the platform lists no row where nothing was exported
                partner_code, partner_name = ("", "总值") if m49 == WORLD else PARTNERS[m49]
                rows.append(
                    [
                        period_text,
                        code,
                        name,
                        partner_code,
                        partner_name,
                        grouped(kg),
                        "千克",
                        "",
                        "",
                        grouped(cny),
                    ]
                )
        files[f"china_exports_{YEAR}_{file_period}.csv"] = rows
    return files


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rows in build().items():
        gacc_format.write(OUT / name, rows)  # GBK, CRLF, as the platform exports it
        print(f"wrote {OUT / name} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
