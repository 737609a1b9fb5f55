#!/usr/bin/env python3
"""Write the committed sample inputs under data/samples/ (deterministic, standard library only).

Files written (and nothing else):

    data/samples/comtrade/us_imports_annual_2020_2024.json      UN Comtrade API v1 payload
    data/samples/comtrade/china_exports_monthly_2023_2025.json  Comtrade API v1 (M, plus A 2024)
    data/samples/comtrade/japan_imports_annual_2021_2024.csv    Comtrade CSV export layout
    data/samples/comtrade/us_reimports_sample_2024.json         flows RM / RX only
    data/samples/prices/benchmark_prices_2020_2025.csv          vendor-neutral price sheet
    data/samples/fx/fx_rates_2020_2025.csv                      daily business-day FX

The figures are synthetic but scaled to the published figures in
shared/reference/published-figures.md (USGS MCS 2025, China customs headlines). Every
World row is computed from the partner rows so totals reconcile exactly; breakdown slices
(motCode != 0, customsCode != "C00") and the Areas-nes row are there to test that a
consumer neither adds slices to totals nor counts aggregates as countries.

Run:  python tools/samples/make_samples.py   (rerunnable; same bytes every time)
The bytes of each format come from tools/formats/ (shared with the fixtures and the benchmark).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
import sys
from pathlib import Path

SEED = 20251126
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tools.formats import comtrade as comtrade_format  # noqa: E402
from tools.formats import fx as fx_format  # noqa: E402
from tools.formats import prices as prices_format  # noqa: E402

OUT = ROOT / "data" / "samples"

MASTER = random.Random(SEED)
# One independent stream per file, drawn in a fixed order from the master seed, so that
# changing one section does not reshuffle the others.
RNG_FX = random.Random(MASTER.getrandbits(64))
RNG_PRICES = random.Random(MASTER.getrandbits(64))
RNG_US = random.Random(MASTER.getrandbits(64))
RNG_CN = random.Random(MASTER.getrandbits(64))
RNG_JP = random.Random(MASTER.getrandbits(64))
RNG_RE = random.Random(MASTER.getrandbits(64))

# --------------------------------------------------------------------------------------
# Reference tables (Comtrade spelling)
# --------------------------------------------------------------------------------------

AREAS = {
    0: ("W00", "World"),
    899: ("_X", "Areas, nes"),
    40: ("AUT", "Austria"),
    124: ("CAN", "Canada"),
    156: ("CHN", "China"),
    233: ("EST", "Estonia"),
    251: ("FRA", "France"),
    276: ("DEU", "Germany"),
    380: ("ITA", "Italy"),
    392: ("JPN", "Japan"),
    410: ("KOR", "Rep. of Korea"),
    458: ("MYS", "Malaysia"),
    484: ("MEX", "Mexico"),
    528: ("NLD", "Netherlands"),
    608: ("PHL", "Philippines"),
    699: ("IND", "India"),
    704: ("VNM", "Viet Nam"),
    764: ("THA", "Thailand"),
    826: ("GBR", "United Kingdom"),
    842: ("USA", "USA"),
}
ISO_TO_M49 = {iso: code for code, (iso, _desc) in AREAS.items() if code not in (0, 899)}

CMD_DESC = {
    "253090": "Mineral substances; n.e.c. in chapter 25",
    "280530": "Rare-earth metals, scandium and yttrium; whether or not intermixed or interalloyed",
    "284610": "Cerium compounds",
    "284690": (
        "Rare-earth metals, yttrium or scandium or of mixtures of these metals; compounds, "
        "inorganic or organic (excluding cerium)"
    ),
    "850511": (
        "Magnets; permanent magnets and articles intended to become permanent magnets after "
        "magnetisation, of metal"
    ),
}

FLOW_DESC = {"M": "Import", "X": "Export", "RM": "Re-import", "RX": "Re-export"}

FIELDS = comtrade_format.FIELDS


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def split_int(total: int, weights: list[float]) -> list[int]:
    """Split a non-negative integer into integer parts proportional to weights (exact sum)."""
    s = float(sum(weights))
    if total == 0 or s <= 0:
        return [0] * len(weights)
    raw = [total * w / s for w in weights]
    parts = [math.floor(x) for x in raw]
    rest = total - sum(parts)
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - parts[i], -i), reverse=True)
    for i in order[:rest]:
        parts[i] += 1
    return parts


def classification(year: int) -> str:
    return "H6" if year >= 2022 else "H5"


def record(
    *,
    freq: str,
    year: int,
    month: int | None,
    reporter: int,
    flow: str,
    partner: int,
    cmd: str,
    net_kg: int,
    value_usd: int,
    gross_kg: int | None = None,
    customs: tuple[str, str] = ("C00", "TOTAL CPC"),
    mot: tuple[int, str] = (0, "TOTAL MOT"),
) -> dict:
    """One Comtrade API v1 record, keys in the API's order."""
    if freq == "A":
        ref_month, period, ref_period_id = 52, str(year), year * 10000 + 101
    else:
        assert month is not None
        ref_month, period = month, f"{year}{month:02d}"
        ref_period_id = year * 10000 + month * 100 + 1
    rep_iso, rep_desc = AREAS[reporter]
    p_iso, p_desc = AREAS[partner]
    importing = flow in ("M", "RM")
    rec = {
        "typeCode": "C",
        "freqCode": freq,
        "refPeriodId": ref_period_id,
        "refYear": year,
        "refMonth": ref_month,
        "period": period,
        "reporterCode": reporter,
        "reporterISO": rep_iso,
        "reporterDesc": rep_desc,
        "flowCode": flow,
        "flowDesc": FLOW_DESC[flow],
        "partnerCode": partner,
        "partnerISO": p_iso,
        "partnerDesc": p_desc,
        "partner2Code": 0,
        "partner2ISO": "W00",
        "partner2Desc": "World",
        "classificationCode": classification(year),
        "classificationSearchCode": "HS",
        "isOriginalClassification": True,
        "cmdCode": cmd,
        "cmdDesc": CMD_DESC[cmd],
        "aggrLevel": 6,
        "isLeaf": True,
        "customsCode": customs[0],
        "customsDesc": customs[1],
        "mosCode": "0",
        "motCode": mot[0],
        "motDesc": mot[1],
        "qtyUnitCode": 8,
        "qtyUnitAbbr": "kg",
        "qty": net_kg,
        "isQtyEstimated": False,
        "altQtyUnitCode": None,
        "altQtyUnitAbbr": None,
        "altQty": None,
        "isAltQtyEstimated": False,
        "netWgt": net_kg,
        "isNetWgtEstimated": False,
        "grossWgt": gross_kg,
        "isGrossWgtEstimated": False,
        "cifvalue": value_usd if importing else None,
        "fobvalue": None if importing else value_usd,
        "primaryValue": value_usd,
        "legacyEstimationFlag": 0,
        "isReported": True,
        "isAggregate": False,
    }
    assert list(rec) == FIELDS
    return rec


def world_row(rows: list[dict], **kw) -> dict:
    """World (partner 0) row = exact sum of the given partner rows."""
    net = sum(r["netWgt"] for r in rows)
    val = sum(r["primaryValue"] for r in rows)
    grosses = [r["grossWgt"] for r in rows]
    gross = None if any(g is None for g in grosses) else sum(grosses)
    return record(partner=0, net_kg=net, value_usd=val, gross_kg=gross, **kw)


def business_days(start: dt.date, end: dt.date) -> list[dt.date]:
    out, d = [], start
    while d <= end:
        if d.weekday() < 5:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def interp(anchors: list[tuple[dt.date, float]], d: dt.date) -> float:
    """Piecewise-linear interpolation over (date, value) anchors, flat outside."""
    xs = [a[0].toordinal() for a in anchors]
    x = d.toordinal()
    if x <= xs[0]:
        return anchors[0][1]
    if x >= xs[-1]:
        return anchors[-1][1]
    i = bisect.bisect_right(xs, x)
    x0, x1 = xs[i - 1], xs[i]
    y0, y1 = anchors[i - 1][1], anchors[i][1]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def fit_annual_means(
    dates: list[dt.date], values: list[float], targets: dict[int, float], rounds: int = 40
) -> list[float]:
    """Multiply a series by a smooth (piecewise-linear between mid-years) correction so that
    each targeted year's mean matches its target; untargeted years keep factor 1 at mid-year."""
    vals = list(values)
    years = sorted({d.year for d in dates})
    for _ in range(rounds):
        factors = []
        for y in years:
            if y in targets:
                ys = [v for d, v in zip(dates, vals, strict=True) if d.year == y]
                factors.append((dt.date(y, 7, 1), targets[y] / (sum(ys) / len(ys))))
            else:
                factors.append((dt.date(y, 7, 1), 1.0))
        vals = [v * interp(factors, d) for d, v in zip(dates, vals, strict=True)]
    return vals


# --------------------------------------------------------------------------------------
# C. FX rates
# --------------------------------------------------------------------------------------

D = dt.date
FX_ANCHORS = {
    "CNY": [
        (D(2020, 1, 1), 6.96), (D(2020, 3, 1), 6.98), (D(2020, 5, 25), 7.12), (D(2020, 7, 1), 7.07),
        (D(2020, 9, 1), 6.84), (D(2020, 11, 1), 6.70), (D(2020, 12, 31), 6.53),
        (D(2021, 2, 1), 6.46), (D(2021, 4, 1), 6.57), (D(2021, 6, 1), 6.38), (D(2021, 8, 1), 6.47),
        (D(2021, 10, 1), 6.45), (D(2021, 12, 31), 6.37),
        (D(2022, 2, 1), 6.36), (D(2022, 4, 1), 6.35), (D(2022, 5, 15), 6.79), (D(2022, 8, 1), 6.75),
        (D(2022, 10, 31), 7.30), (D(2022, 12, 31), 6.90),
        (D(2023, 1, 15), 6.75), (D(2023, 3, 1), 6.92), (D(2023, 5, 1), 6.92), (D(2023, 7, 1), 7.25),
        (D(2023, 9, 10), 7.33), (D(2023, 11, 1), 7.31), (D(2023, 12, 31), 7.10),
        (D(2024, 2, 1), 7.18), (D(2024, 4, 1), 7.23), (D(2024, 7, 1), 7.27), (D(2024, 9, 25), 7.01),
        (D(2024, 11, 15), 7.23), (D(2024, 12, 31), 7.30),
        (D(2025, 2, 1), 7.30), (D(2025, 4, 8), 7.35), (D(2025, 6, 1), 7.19), (D(2025, 8, 1), 7.19),
        (D(2025, 10, 1), 7.12), (D(2025, 12, 31), 7.04),
    ],
    "EUR": [
        (D(2020, 1, 1), 0.892), (D(2020, 3, 9), 0.880), (D(2020, 3, 20), 0.930),
        (D(2020, 5, 15), 0.925), (D(2020, 8, 1), 0.845), (D(2020, 10, 1), 0.853),
        (D(2020, 12, 31), 0.817),
        (D(2021, 1, 6), 0.813), (D(2021, 3, 31), 0.853), (D(2021, 5, 25), 0.818),
        (D(2021, 8, 20), 0.855), (D(2021, 11, 24), 0.893), (D(2021, 12, 31), 0.880),
        (D(2022, 3, 7), 0.920), (D(2022, 5, 12), 0.960), (D(2022, 7, 14), 0.995),
        (D(2022, 9, 28), 1.040), (D(2022, 11, 30), 0.960), (D(2022, 12, 31), 0.937),
        (D(2023, 2, 1), 0.910), (D(2023, 3, 15), 0.940), (D(2023, 5, 1), 0.910),
        (D(2023, 7, 15), 0.890), (D(2023, 10, 3), 0.955), (D(2023, 12, 31), 0.905),
        (D(2024, 4, 16), 0.942), (D(2024, 6, 1), 0.920), (D(2024, 9, 25), 0.893),
        (D(2024, 11, 22), 0.960), (D(2024, 12, 31), 0.963),
        (D(2025, 1, 13), 0.977), (D(2025, 3, 1), 0.960), (D(2025, 4, 21), 0.870),
        (D(2025, 7, 1), 0.850), (D(2025, 9, 15), 0.850), (D(2025, 11, 5), 0.870),
        (D(2025, 12, 31), 0.853),
    ],
}  # fmt: skip
FX_TARGETS = {
    "CNY": {2020: 6.90, 2021: 6.45, 2022: 6.73, 2023: 7.08, 2024: 7.19, 2025: 7.18},
    "EUR": {2020: 0.877, 2021: 0.846, 2022: 0.951, 2023: 0.925, 2024: 0.924, 2025: 0.890},
}
FX_NOISE = {"CNY": 0.0009, "EUR": 0.0030}  # daily log-noise scale of a mean-reverting walk

FX_DAYS = business_days(D(2020, 1, 1), D(2025, 12, 31))


def make_fx() -> dict[str, dict[dt.date, float]]:
    out: dict[str, dict[dt.date, float]] = {}
    for cur in ("CNY", "EUR"):
        noise, e = [], 0.0
        for _ in FX_DAYS:
            e = 0.97 * e + RNG_FX.gauss(0.0, FX_NOISE[cur])
            noise.append(e)
        base = [interp(FX_ANCHORS[cur], d) * math.exp(n) for d, n in zip(FX_DAYS, noise, strict=True)]
        fitted = fit_annual_means(FX_DAYS, base, FX_TARGETS[cur])
        out[cur] = {d: round(v, 4) for d, v in zip(FX_DAYS, fitted, strict=True)}
    return out


def write_fx(fx: dict[str, dict[dt.date, float]]) -> None:
    rows = []
    for d in FX_DAYS:
        for cur in ("CNY", "EUR"):
            rows.append([d.isoformat(), cur, f"{fx[cur][d]:.4f}"])
    fx_format.write(OUT / "fx" / "fx_rates_2020_2025.csv", rows)


# --------------------------------------------------------------------------------------
# B. Benchmark prices
# --------------------------------------------------------------------------------------

CONTROLS_2025 = D(2025, 4, 4)  # MOFCOM/GACC 2025-18 (Sm, Gd, Tb, Dy, Lu, Sc, Y)

# key: (product, element, form, purity, controlled, has_cif_europe)
PRODUCTS = {
    "dy_oxide": ("Dysprosium oxide 99.5% min", "Dy", "oxide", "99.5%", True, True),
    "tb_oxide": ("Terbium oxide 99.99% min", "Tb", "oxide", "99.99%", True, True),
    "nd_oxide": ("Neodymium oxide 99.5% min", "Nd", "oxide", "99.5%", False, True),
    "pr_oxide": ("Praseodymium oxide 99.5% min", "Pr", "oxide", "99.5%", False, False),
    "ndpr_oxide": ("NdPr oxide 99% min", "NdPr", "oxide", "99%", False, True),
    "dy_metal": ("Dysprosium metal 99.5% min", "Dy", "metal", "99.5%", True, True),
    "tb_metal": ("Terbium metal 99.9% min", "Tb", "metal", "99.9%", True, True),
    "la_oxide": ("Lanthanum oxide 99.99% min", "La", "oxide", "99.99%", False, False),
    "ce_oxide": ("Cerium oxide 99.5% min", "Ce", "oxide", "99.5%", False, False),
}

# FOB China USD/kg shape anchors (mid-quarter); 2020-2024 are then fitted to USGS averages.
FOB_SHAPE = {
    "dy_oxide": [255, 250, 262, 275, 330, 370, 430, 500, 440, 400, 370, 330,
                 360, 345, 325, 295, 280, 265, 255, 240, 235, 248, 252, None],
    "tb_oxide": [640, 650, 680, 720, 900, 1150, 1500, 1800, 2150, 2100, 2000, 1950,
                 1600, 1350, 1200, 1050, 900, 820, 780, 740, 760, 880, 960, 930],
    "nd_oxide": [42, 40, 48, 64, 78, 90, 105, 120, 150, 140, 130, 115,
                 92, 80, 72, 68, 58, 55, 56, 55, 60, 64, 76, 72],
    "la_oxide": [1.70, 1.65, 1.62, 1.58, 1.50, 1.45, 1.42, 1.40, 1.40, 1.36, 1.32, 1.28,
                 1.05, 0.95, 0.90, 0.85, 0.74, 0.70, 0.68, 0.67, 0.66, 0.67, 0.69, 0.70],
    "ce_oxide": [1.65, 1.60, 1.58, 1.56, 1.52, 1.50, 1.50, 1.48, 1.45, 1.42, 1.38, 1.30,
                 1.12, 1.05, 1.02, 1.00, 0.98, 0.97, 0.98, 0.99, 1.00, 1.02, 1.03, 1.04],
}  # fmt: skip
USGS_FOB = {
    "dy_oxide": {2020: 261, 2021: 410, 2022: 382, 2023: 330, 2024: 260},
    "tb_oxide": {2020: 670, 2021: 1346, 2022: 2051, 2023: 1298, 2024: 810},
    "nd_oxide": {2020: 49, 2021: 98, 2022: 134, 2023: 78, 2024: 56},
}
# Dy oxide ex-works China at the last assessments of 2025 (CNY/t, VAT incl.): 1.55-1.57 M.
DY_EXW_END_MID = 1_560_000


def assessment_dates() -> list[dt.date]:
    """Every other Wednesday from 2020-01-08 to 2025-12-31; one falling on 1 Jan or 25 Dec
    (no assessment) moves to the Thursday."""
    out, d = [], D(2020, 1, 8)
    while d <= D(2025, 12, 31):
        out.append(d + dt.timedelta(days=1) if (d.month, d.day) in ((1, 1), (12, 25)) else d)
        d += dt.timedelta(days=14)
    return out


def quarter_mid(year: int, q: int) -> dt.date:
    return D(year, 3 * q - 1, 15)


def shape_anchors(values: list[float | None], end_value: float | None = None):
    anchors = []
    for i, v in enumerate(values):
        if v is None:
            continue
        anchors.append((quarter_mid(2020 + i // 4, i % 4 + 1), float(v)))
    if end_value is not None:
        anchors.append((D(2025, 12, 31), end_value))
    return anchors


def ar_noise(rng: random.Random, n: int, sd: float, phi: float = 0.8) -> list[float]:
    out, e = [], 0.0
    for _ in range(n):
        e = phi * e + rng.gauss(0.0, sd)
        out.append(e)
    return out


def round_usd(x: float) -> float:
    if x >= 100:
        return float(round(x))
    if x >= 10:
        return round(x * 2) / 2
    return round(x, 2)


def fmt_num(x: float) -> str:
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def round_cny_t(x: float) -> float:
    step = 5000 if x >= 1_000_000 else 1000 if x >= 100_000 else 50
    return float(round(x / step) * step)


def exw_ratio(key: str, d: dt.date, rng_jit: float) -> float:
    """Domestic ex-works (VAT incl.) / (FOB x FX x 1.13): 0.85-0.95. After the April 2025
    controls, domestic prices of the controlled heavies sit further below FOB (export premium)."""
    controlled = PRODUCTS[key][4]
    base = 0.915 + rng_jit
    if controlled and d >= CONTROLS_2025:
        ramp = min(1.0, (d - CONTROLS_2025).days / 75.0)
        base = base - ramp * (base - 0.872)
    return min(0.95, max(0.85, base))


def europe_premium(key: str, d: dt.date, jit: float) -> float:
    """CIF Europe / FOB China. Freight + insurance + margin before April 2025; for the
    controlled heavies the ex-China premium goes to 2-3x FOB by mid-2025."""
    controlled = PRODUCTS[key][4]
    base = 1.06 + jit
    if d < CONTROLS_2025:
        return base
    days = (d - CONTROLS_2025).days
    if controlled:
        peak = 2.65 + 0.25 * math.sin(days / 40.0)
        return base + (peak - base) * min(1.0, days / 70.0)
    return base + 0.06 * min(1.0, days / 90.0)


def make_prices(fx: dict[str, dict[dt.date, float]]) -> list[list[str]]:
    dates = assessment_dates()
    n = len(dates)
    cny = fx["CNY"]
    fx_end = cny[dates[-1]]

    fob: dict[str, list[float]] = {}
    for key in ("dy_oxide", "tb_oxide", "nd_oxide", "la_oxide", "ce_oxide"):
        end_value = None
        if key == "dy_oxide":
            # Pin the end so that ex-works lands at 1.56 M CNY/t with the post-control ratio.
            end_value = DY_EXW_END_MID / (1000 * fx_end * 1.13 * 0.872)
        anchors = shape_anchors(FOB_SHAPE[key], end_value)
        noise = ar_noise(RNG_PRICES, n, 0.012)
        # Fade the noise out over the last weeks so the pinned end stays pinned.
        series = [
            interp(anchors, d) * math.exp(e * min(1.0, (n - 1 - i) / 4.0))
            for i, (d, e) in enumerate(zip(dates, noise, strict=True))
        ]
        if key in USGS_FOB:
            series = fit_annual_means(dates, series, USGS_FOB[key])
        fob[key] = series

    def derived(base: str, ratio: float, sd: float) -> list[float]:
        noise = ar_noise(RNG_PRICES, n, sd)
        return [v * ratio * math.exp(e) for v, e in zip(fob[base], noise, strict=True)]

    fob["pr_oxide"] = derived("nd_oxide", 1.01, 0.015)
    fob["ndpr_oxide"] = [0.75 * a + 0.25 * b for a, b in zip(fob["nd_oxide"], fob["pr_oxide"], strict=True)]
    fob["ndpr_oxide"] = [v * 0.985 for v in fob["ndpr_oxide"]]
    fob["dy_metal"] = derived("dy_oxide", 1.28, 0.008)
    fob["tb_metal"] = derived("tb_oxide", 1.27, 0.008)

    rows: list[list[str]] = []

    def add(d, key, basis, currency, unit, mid, spread):
        product, element, form, purity, _c, _e = PRODUCTS[key]
        if currency == "CNY":
            lo, hi = round_cny_t(mid * (1 - spread / 2)), round_cny_t(mid * (1 + spread / 2))
            step = 5000 if mid >= 1_000_000 else 1000 if mid >= 100_000 else 50
        else:
            lo, hi = round_usd(mid * (1 - spread / 2)), round_usd(mid * (1 + spread / 2))
            step = 1 if mid >= 100 else 0.5 if mid >= 10 else 0.01
        if hi <= lo:  # a range, never a point
            hi = round(lo + step, 2)
        rows.append([d.isoformat(), "sample-assessor", product, element, form, purity,
                     basis, currency, unit, fmt_num(lo), fmt_num(hi)])  # fmt: skip

    jit_exw = {k: RNG_PRICES.uniform(-0.02, 0.02) for k in PRODUCTS}
    jit_eu = {k: RNG_PRICES.uniform(-0.015, 0.02) for k in PRODUCTS}
    for i, d in enumerate(dates):
        fx_d = cny[d]
        for key in PRODUCTS:
            f = fob[key][i]
            ratio = exw_ratio(key, d, jit_exw[key] + RNG_PRICES.uniform(-0.004, 0.004))
            exw_t = f * fx_d * 1.13 * ratio * 1000.0
            if key == "dy_oxide" and i >= n - 2:
                exw_t = DY_EXW_END_MID
                spread_cny = 20_000 / DY_EXW_END_MID
            else:
                spread_cny = RNG_PRICES.uniform(0.008, 0.02)
            add(d, key, "exw_china_vat_incl", "CNY", "t", exw_t, spread_cny)
            add(d, key, "fob_china", "USD", "kg", f, RNG_PRICES.uniform(0.015, 0.04))
            if PRODUCTS[key][5]:
                prem = europe_premium(key, d, jit_eu[key] + RNG_PRICES.uniform(-0.01, 0.01))
                wide = 0.03 if d < CONTROLS_2025 or not PRODUCTS[key][4] else 0.12
                add(d, key, "cif_europe", "USD", "kg", f * prem, RNG_PRICES.uniform(wide, 2 * wide))
            # A few other bases: first assessment of each month in 2025.
            first_of_month = i == 0 or dates[i - 1].month != d.month
            if d.year == 2025 and first_of_month and key in ("dy_oxide", "ndpr_oxide"):
                ddp = exw_t / 1000.0 / fx_d * 1.01
                add(d, key, "ddp_china", "USD", "kg", ddp, RNG_PRICES.uniform(0.01, 0.025))
                prem_na = europe_premium(key, d, 0.03) * RNG_PRICES.uniform(0.96, 1.04)
                add(d, key, "cif_north_america", "USD", "kg", f * prem_na,
                    RNG_PRICES.uniform(0.04, 0.12))  # fmt: skip
    return rows


def write_prices(rows: list[list[str]]) -> None:
    prices_format.write(OUT / "prices" / "benchmark_prices_2020_2025.csv", rows)


# --------------------------------------------------------------------------------------
# A1. US imports, annual 2020-2024
# --------------------------------------------------------------------------------------

US_YEARS = [2020, 2021, 2022, 2023, 2024]
# USGS MCS 2025: compounds (t REO) and metals (t), converted to kg.
US_COMPOUND_KG = {2020: 6_510_000, 2021: 7_690_000, 2022: 10_700_000, 2023: 8_920_000,
                  2024: 8_000_000}  # fmt: skip
US_METAL_KG = {2020: 363_000, 2021: 580_000, 2022: 487_000, 2023: 476_000, 2024: 90_000}
US_MAGNET_KG = {2020: 30_600_000, 2021: 33_900_000, 2022: 34_700_000, 2023: 32_100_000,
                2024: 33_300_000}  # fmt: skip
US_ORE_KG = {2020: 41_500_000, 2021: 44_800_000, 2022: 47_200_000, 2023: 39_900_000,
             2024: 38_600_000}  # fmt: skip

# Per line: partner -> (value share among countries, unit value USD/kg at factor 1), and
# which partners are always present (the rest appear with probability 0.8).
US_LINES = {
    "284690": {
        "partners": {"CHN": (0.69, 10.5), "MYS": (0.13, 7.0), "JPN": (0.06, 24.0),
                     "EST": (0.05, 11.0), "FRA": (0.022, 32.0), "DEU": (0.012, 28.0),
                     "AUT": (0.010, 22.0), "KOR": (0.008, 16.0), "GBR": (0.006, 35.0),
                     "IND": (0.004, 6.0), "VNM": (0.003, 9.0)},
        "core": {"CHN", "MYS", "JPN", "EST"},
        "year_factor": {2020: 0.85, 2021: 1.10, 2022: 1.30, 2023: 1.05, 2024: 0.90},
    },
    "284610": {
        "partners": {"CHN": (0.68, 3.6), "MYS": (0.14, 2.9), "JPN": (0.06, 7.5),
                     "EST": (0.05, 4.2), "FRA": (0.025, 9.0), "DEU": (0.015, 7.0),
                     "AUT": (0.010, 6.5), "KOR": (0.008, 5.0), "IND": (0.007, 3.0),
                     "GBR": (0.005, 8.0)},
        "core": {"CHN", "MYS", "JPN", "EST"},
        "year_factor": {2020: 0.95, 2021: 1.00, 2022: 1.10, 2023: 0.95, 2024: 0.90},
    },
    "280530": {
        "partners": {"CHN": (0.55, 38.0), "JPN": (0.15, 75.0), "EST": (0.10, 48.0),
                     "GBR": (0.08, 85.0), "VNM": (0.05, 42.0), "DEU": (0.03, 70.0),
                     "AUT": (0.02, 60.0), "FRA": (0.02, 90.0)},
        "core": {"CHN", "JPN", "EST"},
        "year_factor": {2020: 0.85, 2021: 1.05, 2022: 1.25, 2023: 1.00, 2024: 0.90},
    },
    "850511": {
        "partners": {"CHN": (0.72, 26.0), "JPN": (0.09, 48.0), "PHL": (0.06, 30.0),
                     "VNM": (0.045, 24.0), "DEU": (0.035, 55.0), "KOR": (0.025, 32.0),
                     "GBR": (0.006, 60.0), "MYS": (0.006, 22.0), "IND": (0.005, 18.0),
                     "AUT": (0.004, 58.0), "FRA": (0.004, 50.0)},
        "core": {"CHN", "JPN", "PHL", "VNM", "DEU", "KOR"},
        "year_factor": {2020: 0.90, 2021: 1.05, 2022: 1.20, 2023: 1.00, 2024: 0.92},
    },
    "253090": {
        "partners": {"CHN": (0.25, 0.55), "IND": (0.15, 0.35), "JPN": (0.10, 0.95),
                     "DEU": (0.12, 0.95), "FRA": (0.08, 0.90), "GBR": (0.06, 0.80),
                     "KOR": (0.06, 0.70), "AUT": (0.05, 0.85), "MYS": (0.05, 0.50),
                     "VNM": (0.04, 0.40), "PHL": (0.04, 0.30)},
        "core": {"CHN", "IND", "DEU", "JPN"},
        "year_factor": {2020: 0.95, 2021: 1.00, 2022: 1.10, 2023: 1.05, 2024: 1.00},
    },
}  # fmt: skip
US_CMD_ORDER = ["253090", "280530", "284610", "284690", "850511"]


def us_line_rows(year: int, cmd: str, total_kg: int) -> list[dict]:
    cfg = US_LINES[cmd]
    yf = cfg["year_factor"][year]
    present = []
    for iso, (share, uv) in cfg["partners"].items():
        if iso in cfg["core"] or RNG_US.random() < 0.8:
            jitter = RNG_US.uniform(0.96, 1.04) if iso in cfg["core"] else RNG_US.uniform(0.7, 1.3)
            present.append((iso, share * jitter, uv * yf * RNG_US.uniform(0.9, 1.1)))
    # Areas, nes: a small slice at about the line's average unit value.
    nes_kg = round(total_kg * RNG_US.uniform(0.0008, 0.003))
    country_kg = split_int(total_kg - nes_kg, [s / uv for _iso, s, uv in present])
    common = dict(freq="A", year=year, month=None, reporter=842, flow="M", cmd=cmd)
    rows = []
    for (iso, _s, uv), kg in zip(present, country_kg, strict=True):
        if kg <= 0:
            continue
        gross = round(kg * RNG_US.uniform(1.01, 1.06))
        rows.append(record(partner=ISO_TO_M49[iso], net_kg=kg, value_usd=round(kg * uv),
                           gross_kg=gross, **common))  # fmt: skip
    avg_uv = sum(r["primaryValue"] for r in rows) / sum(r["netWgt"] for r in rows)
    nes_val = round(nes_kg * avg_uv * RNG_US.uniform(0.6, 1.0))
    nes = record(partner=899, net_kg=nes_kg, value_usd=nes_val,
                 gross_kg=round(nes_kg * 1.04), **common)  # fmt: skip
    world = world_row(rows + [nes], **common)
    rows.sort(key=lambda r: r["partnerCode"])
    out = [world] + rows + [nes]

    if year == 2023 and cmd == "284690":
        chn = next(r for r in rows if r["partnerCode"] == 156)
        air_kg = round(chn["netWgt"] * 0.065)
        air_val = round(chn["primaryValue"] * 0.23)
        air_gross = round(chn["grossWgt"] * 0.065)
        slices = [
            record(partner=156, net_kg=air_kg, value_usd=air_val, gross_kg=air_gross,
                   mot=(1000, "Air"), **common),
            record(partner=156, net_kg=chn["netWgt"] - air_kg,
                   value_usd=chn["primaryValue"] - air_val,
                   gross_kg=chn["grossWgt"] - air_gross, mot=(2000, "Sea"), **common),
            record(partner=156, net_kg=round(chn["netWgt"] * 0.041),
                   value_usd=round(chn["primaryValue"] * 0.037),
                   gross_kg=round(chn["grossWgt"] * 0.041),
                   customs=("C01", "Customs procedure C01"), **common),
        ]  # fmt: skip
        i = out.index(chn) + 1
        out[i:i] = slices
    return out


def make_us_imports() -> list[dict]:
    recs = []
    for year in US_YEARS:
        share_690 = RNG_US.uniform(0.61, 0.67)
        kg_690 = round(US_COMPOUND_KG[year] * share_690)
        totals = {
            "284690": kg_690,
            "284610": US_COMPOUND_KG[year] - kg_690,
            "280530": US_METAL_KG[year],
            "850511": US_MAGNET_KG[year],
            "253090": US_ORE_KG[year],
        }
        for cmd in US_CMD_ORDER:
            recs.extend(us_line_rows(year, cmd, totals[cmd]))
    return recs


# --------------------------------------------------------------------------------------
# A2. China exports, monthly 2023-2025 (+ annual 2024)
# --------------------------------------------------------------------------------------

CN_YEARS = [2023, 2024, 2025]
CN_PARTNERS = ["JPN", "USA", "KOR", "VNM", "DEU", "NLD", "IND", "THA", "MYS", "ITA"]
RE_CMDS = ["284690", "284610", "280530"]
MAGNET = "850511"

# Annual totals of 284690 + 284610 + 280530 (kg) and pinned months (kg).
RE_ANNUAL_KG = {2023: 52_306_000, 2024: 55_431_000, 2025: 62_585_000}
RE_PINNED_KG = {(2024, 12): 3_326_000, (2025, 6): 7_742_000, (2025, 11): 5_493_900,
                (2025, 12): 4_392_000}  # fmt: skip
RE_VALUE_2024_USD = 488_800_000
RE_MONTH_WEIGHTS = {
    2023: [1.05, 0.75, 1.00, 0.95, 1.05, 1.00, 1.10, 1.00, 0.95, 0.90, 1.00, 1.05],
    2024: [1.10, 0.78, 1.05, 1.00, 1.08, 1.02, 1.12, 1.05, 1.00, 0.95, 1.02, 0.0],
    2025: [1.10, 0.80, 0.95, 0.95, 1.15, 0.0, 1.15, 1.40, 0.80, 0.85, 0.0, 0.0],
}  # fmt: skip

MAGNET_ANNUAL_KG = {2023: 56_680_000, 2024: 58_152_000, 2025: 57_392_000}
# 2025 by month (t): published May-Dec except Aug; Jan-Apr and Aug fill the annual total.
MAGNET_2025_T = [4769, 4700, 5800, 2626, 1238, 3188, 5577, 6146, 5773, 5473, 6150, 5952]
MAGNET_US_2025_T = [620, 540, 646, 298, 46, 353, 619, 589, 420, 656, 582, 564]
MAGNET_MONTH_WEIGHTS = {
    2023: [1.02, 0.80, 1.05, 1.00, 1.05, 1.02, 1.03, 1.00, 0.98, 0.95, 1.03, 1.07],
    2024: [1.05, 0.82, 1.02, 1.00, 1.05, 1.00, 1.02, 1.04, 0.98, 0.97, 1.02, 1.03],
}

CN_SHARES = {  # partner weight among the ten partners
    "284690": {"JPN": 0.28, "USA": 0.14, "NLD": 0.10, "KOR": 0.09, "VNM": 0.08, "DEU": 0.07,
               "IND": 0.07, "THA": 0.05, "MYS": 0.05, "ITA": 0.04},
    "284610": {"JPN": 0.22, "USA": 0.12, "NLD": 0.08, "KOR": 0.13, "VNM": 0.09, "DEU": 0.06,
               "IND": 0.14, "THA": 0.07, "MYS": 0.06, "ITA": 0.03},
    "280530": {"JPN": 0.40, "USA": 0.12, "NLD": 0.08, "KOR": 0.12, "VNM": 0.10, "DEU": 0.08,
               "IND": 0.04, "THA": 0.02, "MYS": 0.02, "ITA": 0.02},
    "850511": {"DEU": 0.17, "KOR": 0.13, "VNM": 0.12, "IND": 0.11, "THA": 0.09, "ITA": 0.08,
               "NLD": 0.07, "JPN": 0.06, "MYS": 0.05},
}  # fmt: skip
CN_UV_MULT = {"JPN": 1.12, "USA": 1.05, "KOR": 1.00, "VNM": 0.86, "DEU": 1.15, "NLD": 1.02,
              "IND": 0.82, "THA": 0.90, "MYS": 0.86, "ITA": 1.08}  # fmt: skip
CN_BASE_UV = {  # USD/kg by year
    "284690": {2023: 10.3, 2024: 8.4, 2025: 8.2},
    "284610": {2023: 3.2, 2024: 2.9, 2025: 2.8},
    "280530": {2023: 42.0, 2024: 35.0, 2025: 34.0},
    "850511": {2023: 36.0, 2024: 30.5, 2025: 31.5},
}
# After the April 2025 controls, licensed heavy-RE compounds to the US dry up for a while.
US_284690_FACTOR_2025 = {4: 0.45, 5: 0.30, 6: 0.55, 7: 0.75, 8: 0.80, 9: 0.80, 10: 0.85,
                         11: 0.90, 12: 0.90}  # fmt: skip


def month_totals(year: int, annual: int, weights: list[float], pinned: dict) -> list[int]:
    fixed = {m: pinned[(year, m)] for m in range(1, 13) if (year, m) in pinned}
    free = [m for m in range(1, 13) if m not in fixed]
    w = [weights[m - 1] * RNG_CN.uniform(0.92, 1.08) for m in free]
    parts = split_int(annual - sum(fixed.values()), w)
    out = dict(fixed)
    out.update(dict(zip(free, parts, strict=True)))
    return [out[m] for m in range(1, 13)]


def cn_partner_kg(cmd: str, year: int, month: int, total: int, us_fixed: int | None) -> dict:
    shares = dict(CN_SHARES[cmd])
    if cmd == "284690" and year == 2025:
        shares["USA"] *= US_284690_FACTOR_2025.get(month, 1.0)
    sparse = {
        "280530": {"THA": 0.55, "MYS": 0.55, "ITA": 0.6, "IND": 0.8},
        "284610": {"ITA": 0.75, "THA": 0.9},
    }.get(cmd, {})
    partners, weights = [], []
    for iso, s in shares.items():
        if iso in sparse and RNG_CN.random() > sparse[iso]:
            continue
        partners.append(iso)
        weights.append(s * RNG_CN.uniform(0.8, 1.2))
    out = {}
    if us_fixed is not None:
        out["USA"] = us_fixed
        total -= us_fixed
    out.update(dict(zip(partners, split_int(total, weights), strict=True)))
    return {iso: kg for iso, kg in out.items() if kg > 0}


def make_china_exports() -> list[dict]:
    # month -> cmd -> partner -> [kg, raw_value]
    cells: dict[tuple[int, int], dict[str, dict[str, list]]] = {}
    for year in CN_YEARS:
        re_months = month_totals(year, RE_ANNUAL_KG[year], RE_MONTH_WEIGHTS[year], RE_PINNED_KG)
        if year == 2025:
            mag_months = [t * 1000 for t in MAGNET_2025_T]
            us_mag = [t * 1000 for t in MAGNET_US_2025_T]
        else:
            mag_months = month_totals(year, MAGNET_ANNUAL_KG[year], MAGNET_MONTH_WEIGHTS[year], {})
            us_mag = [round(m * RNG_CN.uniform(0.115, 0.135)) for m in mag_months]
        for mi in range(12):
            month = mi + 1
            mix = [0.72 * RNG_CN.uniform(0.95, 1.05), 0.22 * RNG_CN.uniform(0.9, 1.1),
                   0.06 * RNG_CN.uniform(0.85, 1.15)]  # fmt: skip
            by_cmd = dict(zip(RE_CMDS, split_int(re_months[mi], mix), strict=True))
            by_cmd[MAGNET] = mag_months[mi]
            cell = {}
            for cmd in RE_CMDS + [MAGNET]:
                us_fixed = us_mag[mi] if cmd == MAGNET else None
                kgs = cn_partner_kg(cmd, year, month, by_cmd[cmd], us_fixed)
                base_uv = CN_BASE_UV[cmd][year] * RNG_CN.uniform(0.96, 1.04)
                cell[cmd] = {
                    iso: [kg, kg * base_uv * CN_UV_MULT[iso] * RNG_CN.uniform(0.94, 1.06)]
                    for iso, kg in kgs.items()
                }
            cells[(year, month)] = cell

    # Values: 2024 RE lines are allocated to hit the published USD 488.8 M exactly.
    keys_2024 = [(m, cmd, iso) for m in range(1, 13) for cmd in RE_CMDS
                 for iso in cells[(2024, m)][cmd]]  # fmt: skip
    alloc = split_int(RE_VALUE_2024_USD, [cells[(2024, m)][c][i][1] for m, c, i in keys_2024])
    for (m, c, i), v in zip(keys_2024, alloc, strict=True):
        cells[(2024, m)][c][i][1] = v
    for cell in cells.values():
        for parts in cell.values():
            for iso in parts:
                parts[iso][1] = int(round(parts[iso][1]))

    recs = []
    order = [MAGNET, "280530", "284610", "284690"]
    for (year, month), cell in sorted(cells.items()):
        for cmd in order:
            common = dict(freq="M", year=year, month=month, reporter=156, flow="X", cmd=cmd)
            rows = [record(partner=ISO_TO_M49[iso], net_kg=kg, value_usd=val, **common)
                    for iso, (kg, val) in cell[cmd].items()]  # fmt: skip
            rows.sort(key=lambda r: r["partnerCode"])
            recs.append(world_row(rows, **common))
            recs.extend(rows)

    # Annual 2024 (freqCode A) = sum of that year's months, World and partners.
    for cmd in order:
        common = dict(freq="A", year=2024, month=None, reporter=156, flow="X", cmd=cmd)
        tot: dict[str, list[int]] = {}
        for month in range(1, 13):
            for iso, (kg, val) in cells[(2024, month)][cmd].items():
                t = tot.setdefault(iso, [0, 0])
                t[0] += kg
                t[1] += val
        rows = [record(partner=ISO_TO_M49[iso], net_kg=kg, value_usd=val, **common)
                for iso, (kg, val) in tot.items()]  # fmt: skip
        rows.sort(key=lambda r: r["partnerCode"])
        recs.append(world_row(rows, **common))
        recs.extend(rows)
    return recs


# --------------------------------------------------------------------------------------
# A3. Japan imports, annual 2021-2024 (CSV)
# --------------------------------------------------------------------------------------

JP_YEARS = [2021, 2022, 2023, 2024]
JP_TOTAL_KG = {
    "284690": {2021: 15_800_000, 2022: 14_900_000, 2023: 13_600_000, 2024: 13_100_000},
    "280530": {2021: 4_650_000, 2022: 4_300_000, 2023: 3_900_000, 2024: 3_750_000},
    "850511": {2021: 10_900_000, 2022: 10_400_000, 2023: 9_700_000, 2024: 9_500_000},
}
JP_LINES = {  # partner -> (kg share, unit value USD/kg at factor 1)
    "284690": {"CHN": (0.58, 17.0), "MYS": (0.20, 14.0), "VNM": (0.09, 19.0),
               "FRA": (0.05, 28.0), "EST": (0.03, 21.0), "USA": (0.02, 26.0),
               "KOR": (0.02, 15.0), "THA": (0.01, 9.0)},
    "280530": {"CHN": (0.78, 60.0), "VNM": (0.18, 55.0), "USA": (0.015, 95.0),
               "EST": (0.012, 70.0), "KOR": (0.008, 65.0), "FRA": (0.005, 110.0)},
    "850511": {"CHN": (0.62, 24.0), "VNM": (0.12, 22.0), "KOR": (0.07, 30.0),
               "THA": (0.07, 21.0), "MYS": (0.05, 20.0), "USA": (0.03, 45.0),
               "FRA": (0.02, 40.0), "EST": (0.005, 35.0)},
}  # fmt: skip
JP_YEAR_FACTOR = {2021: 1.0, 2022: 1.25, 2023: 0.95, 2024: 0.82}


def make_japan_imports() -> list[dict]:
    recs = []
    for year in JP_YEARS:
        for cmd in ["280530", "284690", "850511"]:
            common = dict(freq="A", year=year, month=None, reporter=392, flow="M", cmd=cmd)
            partners = []
            for iso, (s, uv) in JP_LINES[cmd].items():
                if s >= 0.05 or RNG_JP.random() < 0.85:
                    partners.append((iso, s * RNG_JP.uniform(0.85, 1.15), uv))
            kgs = split_int(JP_TOTAL_KG[cmd][year], [s for _i, s, _u in partners])
            yf = JP_YEAR_FACTOR[year] if cmd != "850511" else 0.9 + 0.1 * JP_YEAR_FACTOR[year]
            rows = []
            for (iso, _s, uv), kg in zip(partners, kgs, strict=True):
                val = round(kg * uv * yf * RNG_JP.uniform(0.92, 1.08))
                rows.append(record(partner=ISO_TO_M49[iso], net_kg=kg, value_usd=val, **common))
            rows.sort(key=lambda r: r["partnerCode"])
            recs.append(world_row(rows, **common))
            recs.extend(rows)
    return recs


def csv_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    return str(v)


# --------------------------------------------------------------------------------------
# A4. US re-imports / re-exports 2024 (284690)
# --------------------------------------------------------------------------------------


def make_us_reflows() -> list[dict]:
    recs = []
    spec = {
        "RM": [("CAN", 1_850, 24.0), ("JPN", 640, 41.0), ("DEU", 310, 38.0)],
        "RX": [("CAN", 41_200, 14.5), ("MEX", 12_700, 12.0), ("JPN", 5_900, 19.0),
               ("KOR", 3_350, 17.0), ("DEU", 1_480, 22.0)],
    }  # fmt: skip
    for flow, parts in spec.items():
        common = dict(freq="A", year=2024, month=None, reporter=842, flow=flow, cmd="284690")
        rows = []
        for iso, kg, uv in parts:
            kg = round(kg * RNG_RE.uniform(0.9, 1.1))
            val = round(kg * uv * RNG_RE.uniform(0.9, 1.1))
            rows.append(record(partner=ISO_TO_M49[iso], net_kg=kg, value_usd=val,
                               gross_kg=round(kg * 1.03), **common))  # fmt: skip
        rows.sort(key=lambda r: r["partnerCode"])
        recs.append(world_row(rows, **common))
        recs.extend(rows)
    return recs


# --------------------------------------------------------------------------------------


def main() -> None:
    fx = make_fx()
    prices = make_prices(fx)
    us = make_us_imports()
    cn = make_china_exports()
    jp = make_japan_imports()
    reflows = make_us_reflows()

    write_fx(fx)
    write_prices(prices)
    folder = OUT / "comtrade"
    comtrade_format.write_payload(folder / "us_imports_annual_2020_2024.json", us, "0.12 secs")
    comtrade_format.write_payload(folder / "china_exports_monthly_2023_2025.json", cn, "0.47 secs")
    comtrade_format.write_payload(folder / "us_reimports_sample_2024.json", reflows, "0.05 secs")
    comtrade_format.write_csv(
        folder / "japan_imports_annual_2021_2024.csv", [[csv_cell(r[f]) for f in FIELDS] for r in jp]
    )

    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(ROOT)}  {p.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
