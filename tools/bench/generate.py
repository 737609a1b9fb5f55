#!/usr/bin/env python3
"""Deterministic synthetic inputs in the real source formats, at a chosen size.

    python tools/bench/generate.py comtrade-csv  --rows 1000000 --out /tmp/ree-tools/bench/comtrade.csv
    python tools/bench/generate.py comtrade-json --rows 100000  --out /tmp/ree-tools/bench/comtrade.json
    python tools/bench/generate.py gacc-csv      --rows 1000000 --out /tmp/ree-tools/bench/gacc/exports/x.csv
    python tools/bench/generate.py census-json   --rows 100000  --out /tmp/ree-tools/bench/census.json [--flow export]
    python tools/bench/generate.py inbox         --rows 1000000 --out /tmp/ree-tools/bench/inbox  (ten years)
    python tools/bench/generate.py new-month     --rows 1000000 --out /tmp/ree-tools/bench/month  (January 2025)

Same arguments, same bytes (numpy's PCG64 seeded from `--seed`). Every generated row passes the
product's row rules and GX suites: reporters and partners are the seeds' codes (Comtrade M49 of
non-aggregate countries plus Comtrade areas; GACC codes with their Chinese names; Census country
codes and groupings), product codes are the seed's lines for that source, record keys are unique,
unit values sit in the suites' ranges.

Shape (the "realistic cardinalities"): a file is a set of *cells* (Comtrade: reporter x period x
flow x HS6; GACC: period x national line x trade mode x registration place; Census: month x HS10
[x DF]); each cell holds a World (total) row and k partner rows, k skewed by the reporter's size
(big traders report many partners, small ones a few). Reporters and partners follow a Zipf law over
a fixed ranking (China, USA, Japan, Germany, Korea, ... first), flows are 45 % M / 40 % X / 10 % RX /
5 % RM, HS6 lines are weighted (284690 and 850511 most common), 5 % of Comtrade rows are breakdown
slices (customs procedure, transport mode or second partner), 2 % declare a count unit instead of
kg. World rows are the exact sum of their partner rows. Rows come out sorted as a bulk download is
(reporter, period, flow, commodity, partner).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tools.formats import census as census_format  # noqa: E402
from tools.formats import comtrade as comtrade_format  # noqa: E402
from tools.formats import gacc as gacc_format  # noqa: E402

SEEDS = ROOT / "dbt" / "seeds"
SAMPLES = ROOT / "data" / "samples"
CHUNK = 500_000
DEFAULT_SEED = 20251126
YEARS = tuple(range(2015, 2026))

# The biggest rare-earth traders first; every other country follows in seed order (shuffled once).
BIG_TRADERS = [
    "CHN", "USA", "JPN", "DEU", "KOR", "NLD", "IND", "FRA", "GBR", "ITA", "VNM", "MYS", "THA", "EST",
    "AUT", "BEL", "ESP", "CAN", "MEX", "BRA", "AUS", "RUS", "SGP", "HKG", "TWN", "PHL", "IDN", "POL",
    "CZE", "SWE", "CHE", "TUR", "ZAF", "MMR", "LAO",
]  # fmt: skip


def _seed_rows(name: str) -> list[dict[str, str]]:
    with open(SEEDS / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _zipf_weights(n: int, exponent: float) -> np.ndarray:
    return 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent


def _ranked(codes: list, iso3: list[str], rng: np.random.Generator) -> np.ndarray:
    """Zipf weights over countries ranked big traders first, the rest in a seeded shuffle."""
    order = [iso3.index(i) for i in BIG_TRADERS if i in iso3]
    rest = [i for i in range(len(codes)) if i not in order]
    rest = list(np.asarray(rest)[rng.permutation(len(rest))]) if rest else []
    rank = np.empty(len(codes), dtype=np.int64)
    rank[np.asarray(order + rest, dtype=np.int64)] = np.arange(len(codes))
    return _zipf_weights(len(codes), 1.05)[rank]


def _top_k_weighted(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn with probability proportional to weight (Efraimidis-Spirakis)."""
    keys = np.log(rng.random(weights.shape[0])) / np.maximum(weights, 1e-300)
    keys[weights <= 0] = -np.inf
    return np.sort(np.argpartition(-keys, k - 1)[:k]) if k < weights.shape[0] else np.arange(weights.shape[0])


def _partition(
    rng: np.random.Generator, total: int, shape: np.ndarray, low: int, high: np.ndarray
) -> np.ndarray:
    """Integers k_i in [low, high_i], roughly proportional to `shape`, summing exactly to `total`."""
    if total < low * shape.shape[0] or total > int(high.sum()):
        raise ValueError(f"cannot split {total} rows over {shape.shape[0]} cells")
    k = np.clip(np.floor(shape / shape.sum() * total), low, high).astype(np.int64)
    while (diff := total - int(k.sum())) != 0:
        room = (k < high) if diff > 0 else (k > low)
        candidates = np.flatnonzero(room)
        pick = rng.choice(candidates, size=min(abs(diff), candidates.shape[0]), replace=False)
        k[pick] += 1 if diff > 0 else -1
    return k


def _pick_partners(
    rng: np.random.Generator, k: np.ndarray, weights: np.ndarray, exclude: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """For each cell i, k[i] distinct partner indices weighted by `weights` (never `exclude[i]`).
    Returns (cell index per row, partner index per row), partners ascending within a cell."""
    cells, partners = [], []
    step = max(1, 4_000_000 // weights.shape[0])
    for start in range(0, k.shape[0], step):
        kk = k[start : start + step]
        keys = np.log(rng.random((kk.shape[0], weights.shape[0]))) / weights[None, :]
        if exclude is not None:
            ex = exclude[start : start + step]
            valid = ex >= 0
            keys[np.flatnonzero(valid), ex[valid]] = -np.inf
        order = np.argsort(-keys, axis=1, kind="stable")
        take = np.arange(weights.shape[0])[None, :] < kk[:, None]
        rows, ranks = np.nonzero(take)
        chosen = order[rows, ranks]
        # partners ascending inside each cell (a bulk file is sorted by partner code)
        sort = np.lexsort((chosen, rows))
        cells.append(rows[sort] + start)
        partners.append(chosen[sort])
    return np.concatenate(cells), np.concatenate(partners)


def _cells_and_rows(
    rng: np.random.Generator, rows: int, cell_weights: np.ndarray, partner_max: int, breakdown_share: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Choose the cells (index into the flattened cell space) and the partner rows per cell."""
    space = cell_weights.shape[0]
    per_cell = max(8.0, rows / (0.5 * space))
    n_cells = max(1, min(space, round(rows / per_cell)))
    # never more than ~80 % of a cell's possible partners on average (the partition must fit)
    n_cells = min(space, max(n_cells, int(np.ceil(rows / (0.8 * (partner_max + 1))))))
    breakdown = int(round(rows * breakdown_share))
    partner_rows = rows - n_cells - breakdown
    if partner_rows < n_cells:
        n_cells = max(1, (rows - breakdown) // 2)
        partner_rows = rows - n_cells - breakdown
    cells = _top_k_weighted(rng, cell_weights, n_cells)
    size = cell_weights[cells] / cell_weights[cells].mean()
    shape = size**0.5 * rng.gamma(2.0, 1.0, n_cells)
    k = _partition(rng, partner_rows, shape, 1, np.full(n_cells, partner_max))
    return cells, k, breakdown


# --- Comtrade ----------------------------------------------------------------------------------

COMTRADE_FIELDS = comtrade_format.FIELDS
FLOWS = [("M", "Import", 0.45), ("X", "Export", 0.40), ("RX", "Re-export", 0.10), ("RM", "Re-import", 0.05)]
# HS6 line → (weight, typical USD/kg, description as the API spells it)
COMTRADE_CMDS = {
    "284690": (0.26, 25.0, "Rare-earth metals, yttrium or scandium or of mixtures of these metals; "
                           "compounds, inorganic or organic (excluding cerium)"),
    "850511": (0.26, 40.0, "Magnets; permanent magnets and articles intended to become permanent "
                           "magnets after magnetisation, of metal"),
    "280530": (0.14, 60.0, "Rare-earth metals, scandium and yttrium; whether or not intermixed or "
                           "interalloyed"),
    "284610": (0.10, 6.0, "Cerium compounds"),
    "253090": (0.08, 0.6, "Mineral substances; n.e.c. in chapter 25"),
    "382499": (0.07, 8.0, "Chemical products, preparations and residual products of the chemical or "
                          "allied industries, n.e.c."),
    "720299": (0.05, 3.0, "Ferro-alloys; n.e.c. in heading no. 7202"),
    "360690": (0.04, 20.0, "Ferro-cerium and other pyrophoric alloys in all forms; articles of "
                           "combustible materials"),
}  # fmt: skip
# (customsCode, customsDesc, motCode, motDesc, partner2Code): index 0 is the total, the rest slices.
BREAKDOWNS = [
    ("C00", "TOTAL CPC", 0, "TOTAL MOT", 0),
    ("C01", "Free circulation / home use", 0, "TOTAL MOT", 0),
    ("C02", "Processing", 0, "TOTAL MOT", 0),
    ("C03", "Customs warehousing", 0, "TOTAL MOT", 0),
    ("C04", "Re-exports / re-imports", 0, "TOTAL MOT", 0),
    ("C00", "TOTAL CPC", 1000, "Air", 0),
    ("C00", "TOTAL CPC", 2100, "Sea", 0),
    ("C00", "TOTAL CPC", 3100, "Rail", 0),
    ("C00", "TOTAL CPC", 3200, "Road", 0),
    ("C00", "TOTAL CPC", 9000, "Other", 0),
    ("C00", "TOTAL CPC", 0, "TOTAL MOT", 156),
    ("C00", "TOTAL CPC", 0, "TOTAL MOT", 344),
    ("C00", "TOTAL CPC", 0, "TOTAL MOT", 528),
    ("C00", "TOTAL CPC", 0, "TOTAL MOT", 702),
]


@dataclass(frozen=True)
class Period:
    freq: str
    year: int
    month: int | None  # None for annual

    @property
    def ref_month(self) -> int:
        return 52 if self.month is None else self.month

    @property
    def text(self) -> str:
        return str(self.year) if self.month is None else f"{self.year}{self.month:02d}"

    @property
    def ref_period_id(self) -> int:
        return self.year * 10000 + (101 if self.month is None else self.month * 100 + 1)


def comtrade_periods(years=YEARS, freqs=("A", "M"), months=range(1, 13)) -> list[Period]:
    periods = []
    for year in years:
        if "A" in freqs:
            periods.append(Period("A", year, None))
        if "M" in freqs:
            periods.extend(Period("M", year, m) for m in months)
    return periods


def _comtrade_reference(rng: np.random.Generator) -> dict:
    countries = [r for r in _seed_rows("countries") if r["is_aggregate"] != "true" and r["m49"]]
    areas = [r for r in _seed_rows("comtrade_areas") if r["m49"] != "0"]
    iso3 = [r["iso3"] for r in countries]
    reporter_w = _ranked(countries, iso3, rng)
    partner_w = np.concatenate([_ranked(countries, iso3, rng), np.full(len(areas), 0.0003)])
    return {
        "reporter_code": np.array([int(r["m49"]) for r in countries]),
        "reporter_iso": iso3,
        "reporter_desc": [r["name"] for r in countries],
        "reporter_w": reporter_w,
        "partner_code": np.array([int(r["m49"]) for r in countries] + [int(a["m49"]) for a in areas]),
        "partner_iso": iso3 + [a["comtrade_iso"] or "_X" for a in areas],
        "partner_desc": [r["name"] for r in countries] + [a["name"] for a in areas],
        "partner_w": partner_w,
    }


def comtrade_rows(rows: int, seed: int = DEFAULT_SEED, periods: list[Period] | None = None) -> dict:
    """The generated Comtrade records as numpy columns (sorted as a bulk file), exactly `rows` rows."""
    rng = np.random.default_rng(seed)
    ref = _comtrade_reference(rng)
    periods = periods or comtrade_periods()
    cmds = list(COMTRADE_CMDS)
    n_per, n_flow, n_cmd = len(periods), len(FLOWS), len(cmds)
    n_partner = ref["partner_w"].shape[0]
    flow_w = np.array([f[2] for f in FLOWS])
    cmd_w = np.array([COMTRADE_CMDS[c][0] for c in cmds])
    # cell = ((reporter * periods + period) * flows + flow) * cmds + cmd
    cell_w = (
        ref["reporter_w"][:, None, None, None]
        * np.ones(n_per)[None, :, None, None]
        * flow_w[None, None, :, None]
        * cmd_w[None, None, None, :]
    ).ravel()
    cells, k, n_breakdown = _cells_and_rows(rng, rows, cell_w, n_partner - 1, 0.05)
    rep_of_cell = cells // (n_per * n_flow * n_cmd)
    # a reporter never trades with itself: the partner with its own M49 is excluded
    self_partner = rep_of_cell  # the first n_rep partners are the reporters, in the same order
    cell_of_row, partner = _pick_partners(rng, k, ref["partner_w"], self_partner)
    n_partner_rows = cell_of_row.shape[0]

    # breakdown slices of existing partner rows
    parent = np.sort(rng.choice(n_partner_rows, size=n_breakdown, replace=n_breakdown > n_partner_rows))
    combo = rng.integers(1, len(BREAKDOWNS), size=n_breakdown)
    key = parent.astype(np.int64) * len(BREAKDOWNS) + combo
    key = np.unique(key)
    while key.shape[0] < n_breakdown:
        extra_parent = rng.choice(n_partner_rows, size=n_breakdown - key.shape[0])
        extra = extra_parent.astype(np.int64) * len(BREAKDOWNS) + rng.integers(
            1, len(BREAKDOWNS), extra_parent.shape[0]
        )
        key = np.unique(np.concatenate([key, extra]))
    key = key[:n_breakdown] if key.shape[0] > n_breakdown else key
    parent, combo = key // len(BREAKDOWNS), key % len(BREAKDOWNS)

    per = (cells // (n_flow * n_cmd)) % n_per
    cmd = cells % n_cmd
    annual = np.array([p.freq == "A" for p in periods])[per]
    price = np.array([COMTRADE_CMDS[c][1] for c in cmds])
    rep_size = ref["reporter_w"][rep_of_cell] / ref["reporter_w"].max()
    # partner rows: kg log-normal (bigger for big reporters and annual data), unit value around
    # the line's price
    mu = 7.0 + 2.0 * np.log10(rep_size[cell_of_row] + 1e-3) + np.where(annual[cell_of_row], 2.3, 0.0)
    kg = np.maximum(1, np.round(np.exp(rng.normal(mu + 3.0, 1.6)))).astype(np.int64)
    unit_value = np.exp(rng.normal(np.log(price[cmd[cell_of_row]]), 0.6))
    value = np.maximum(1.0, np.round(kg * unit_value, 2))
    count_unit = rng.random(n_partner_rows) < 0.02  # declared as a count ("u"), no mass
    # World rows: the exact sums of the cell's partner rows (areas included, slices not)
    world_value = np.bincount(cell_of_row, weights=value, minlength=cells.shape[0])
    world_kg = np.bincount(cell_of_row, weights=np.where(count_unit, 0, kg), minlength=cells.shape[0]).astype(
        np.int64
    )
    share = rng.uniform(0.1, 0.9, parent.shape[0])

    n = cells.shape[0] + n_partner_rows + parent.shape[0]
    assert n == rows, (n, rows)
    cell_all = np.concatenate([np.arange(cells.shape[0]), cell_of_row, cell_of_row[parent]])
    partner_all = np.concatenate([np.full(cells.shape[0], -1), partner, partner[parent]])
    combo_all = np.concatenate([np.zeros(cells.shape[0] + n_partner_rows, dtype=np.int64), combo])
    kg_all = np.concatenate([world_kg, kg, np.maximum(1, np.round(kg[parent] * share)).astype(np.int64)])
    value_all = np.concatenate(
        [np.round(world_value, 2), value, np.maximum(1.0, np.round(value[parent] * share, 2))]
    )
    count_all = np.concatenate([np.zeros(cells.shape[0], dtype=bool), count_unit, count_unit[parent]])
    order = np.lexsort((combo_all, partner_all, cells[cell_all]))
    cell_idx = cells[cell_all][order]
    return {
        "periods": periods,
        "cmds": cmds,
        "ref": ref,
        "reporter": cell_idx // (n_per * n_flow * n_cmd),
        "period": (cell_idx // (n_flow * n_cmd)) % n_per,
        "flow": (cell_idx // n_cmd) % n_flow,
        "cmd": cell_idx % n_cmd,
        "partner": partner_all[order],
        "combo": combo_all[order],
        "kg": kg_all[order],
        "value": value_all[order],
        "count_unit": count_all[order],
    }


def _comtrade_frame(data: dict, start: int, stop: int, *, for_json: bool) -> pl.DataFrame:
    ref, periods = data["ref"], data["periods"]
    sl = slice(start, stop)
    partner = data["partner"][sl]
    world = partner < 0
    p_idx = np.where(world, 0, partner)
    combo = data["combo"][sl]
    flow = data["flow"][sl]
    count_unit = data["count_unit"][sl]
    kg = data["kg"][sl]
    value = data["value"][sl]
    importing = np.isin(flow, [0, 3])  # M, RM

    def take(values: list, idx: np.ndarray, dtype=pl.String) -> pl.Series:
        return pl.Series(values, dtype=dtype).gather(idx)

    per = data["period"][sl]
    p_freq = [p.freq for p in periods]
    p_year = [p.year for p in periods]
    year = np.array(p_year)[per]
    bd = BREAKDOWNS
    true_, false_ = (True, False) if for_json else ("True", "False")
    bool_type = pl.Boolean if for_json else pl.String
    n = stop - start
    rep = data["reporter"][sl]
    cmd = data["cmd"][sl]
    cmds = data["cmds"]
    qty = np.where(count_unit, np.maximum(1, kg // 50), kg)
    columns = {
        "typeCode": pl.repeat("C", n, eager=True),
        "freqCode": take(p_freq, per),
        "refPeriodId": pl.Series(np.array([p.ref_period_id for p in periods])[per]),
        "refYear": pl.Series(year),
        "refMonth": pl.Series(np.array([p.ref_month for p in periods])[per]),
        "period": take([p.text for p in periods], per),
        "reporterCode": pl.Series(ref["reporter_code"][rep]),
        "reporterISO": take(ref["reporter_iso"], rep),
        "reporterDesc": take(ref["reporter_desc"], rep),
        "flowCode": take([f[0] for f in FLOWS], flow),
        "flowDesc": take([f[1] for f in FLOWS], flow),
        "partnerCode": pl.Series(np.where(world, 0, ref["partner_code"][p_idx])),
        "partnerISO": pl.Series(
            np.where(world, "W00", np.array(ref["partner_iso"], dtype=object)[p_idx]), dtype=pl.String
        ),
        "partnerDesc": pl.Series(
            np.where(world, "World", np.array(ref["partner_desc"], dtype=object)[p_idx]), dtype=pl.String
        ),
        "partner2Code": pl.Series(np.array([b[4] for b in bd])[combo]),
        "partner2ISO": take(["W00", "", "", "", "", "", "", "", "", "", "CHN", "HKG", "NLD", "SGP"], combo),
        "partner2Desc": take(
            [
                "World",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "China",
                "China, Hong Kong SAR",
                "Netherlands",
                "Singapore",
            ],
            combo,
        ),
        "classificationCode": pl.Series(
            np.where(year >= 2022, "H6", np.where(year >= 2017, "H5", "H4")), dtype=pl.String
        ),
        "classificationSearchCode": pl.repeat("HS", n, eager=True),
        "isOriginalClassification": pl.repeat(true_, n, eager=True, dtype=bool_type),
        "cmdCode": take(cmds, cmd),
        "cmdDesc": take([COMTRADE_CMDS[c][2] for c in cmds], cmd),
        "aggrLevel": pl.repeat(6, n, eager=True),
        "isLeaf": pl.repeat(true_, n, eager=True, dtype=bool_type),
        "customsCode": take([b[0] for b in bd], combo),
        "customsDesc": take([b[1] for b in bd], combo),
        "mosCode": pl.repeat("0", n, eager=True),
        "motCode": pl.Series(np.array([b[2] for b in bd])[combo]),
        "motDesc": take([b[3] for b in bd], combo),
        "qtyUnitCode": pl.Series(np.where(count_unit, 5, 8)),
        "qtyUnitAbbr": pl.Series(np.where(count_unit, "u", "kg"), dtype=pl.String),
        "qty": pl.Series(qty),
        "isQtyEstimated": pl.repeat(false_, n, eager=True, dtype=bool_type),
        "altQtyUnitCode": pl.repeat(None, n, eager=True, dtype=pl.Int64),
        "altQtyUnitAbbr": pl.repeat(None, n, eager=True, dtype=pl.String),
        "altQty": pl.repeat(None, n, eager=True, dtype=pl.Float64),
        "isAltQtyEstimated": pl.repeat(false_, n, eager=True, dtype=bool_type),
        "netWgt": pl.Series(kg).set(pl.Series(count_unit), None) if count_unit.any() else pl.Series(kg),
        "isNetWgtEstimated": pl.repeat(false_, n, eager=True, dtype=bool_type),
        "grossWgt": pl.repeat(None, n, eager=True, dtype=pl.Int64),
        "isGrossWgtEstimated": pl.repeat(false_, n, eager=True, dtype=bool_type),
        "cifvalue": pl.Series(value).set(pl.Series(~importing), None),
        "fobvalue": pl.Series(value).set(pl.Series(importing), None),
        "primaryValue": pl.Series(value),
        "legacyEstimationFlag": pl.repeat(0, n, eager=True),
        "isReported": pl.repeat(true_, n, eager=True, dtype=bool_type),
        "isAggregate": pl.repeat(false_, n, eager=True, dtype=bool_type),
    }
    return pl.DataFrame(columns).select(COMTRADE_FIELDS)


def write_comtrade_csv(
    path: Path, rows: int, seed: int = DEFAULT_SEED, periods: list[Period] | None = None
) -> Path:
    data = comtrade_rows(rows, seed, periods)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        for start in range(0, rows, CHUNK):
            frame = _comtrade_frame(data, start, min(rows, start + CHUNK), for_json=False)
            handle.write(comtrade_format.frame_chunk_bytes(frame, include_header=start == 0))
    return path


def write_comtrade_json(
    path: Path, rows: int, seed: int = DEFAULT_SEED, periods: list[Period] | None = None
) -> Path:
    """The API v1 payload: {"elapsedTime": ..., "count": n, "data": [ {record}, ... ]}."""
    data = comtrade_rows(rows, seed, periods)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(comtrade_format.payload_head(rows, "0.52 secs"))
        for start in range(0, rows, CHUNK):
            frame = _comtrade_frame(data, start, min(rows, start + CHUNK), for_json=True)
            buffer = io.BytesIO()
            frame.write_json(buffer)
            body = buffer.getvalue().strip()
            if start:
                handle.write(b",\n")
            handle.write(body[1:-1].replace(b"},{", b"},\n{"))
        handle.write(comtrade_format.PAYLOAD_TAIL_CHUNKED)
    return path


# --- GACC --------------------------------------------------------------------------------------

GACC_ELEMENT_CN = {
    "Nd": "钕", "Dy": "镝", "Tb": "铽", "La": "镧", "Ce": "铈", "Pr": "镨", "Y": "钇", "Sc": "钪",
    "Sm": "钐", "Gd": "钆", "Eu": "铕", "Yb": "镱", "Lu": "镥", "Ho": "钬", "Er": "铒", "Tm": "铥",
    "mixed": "稀土", "none": "",
}  # fmt: skip
GACC_FORM_CN = {
    "metal": "金属", "alloy": "合金", "oxide": "氧化物", "chloride": "氯化物", "fluoride": "氟化物",
    "carbonate": "碳酸盐", "compound": "化合物", "mixture": "混合物", "magnet": "永磁体",
}  # fmt: skip
GACC_TRADE_MODES = [
    ("10", "一般贸易", 0.55), ("15", "进料加工贸易", 0.15), ("14", "来料加工装配贸易", 0.08),
    ("33", "保税仓库进出境货物", 0.07), ("34", "保税区仓储转口货物", 0.06), ("19", "边境小额贸易", 0.04),
    ("35", "出口加工区进出境货物", 0.03), ("39", "其他", 0.02),
]  # fmt: skip
GACC_PLACES = [
    ("15", "内蒙古自治区", 0.16), ("36", "江西省", 0.14), ("44", "广东省", 0.10), ("32", "江苏省", 0.09),
    ("31", "上海市", 0.07), ("33", "浙江省", 0.07), ("37", "山东省", 0.06), ("35", "福建省", 0.05),
    ("45", "广西壮族自治区", 0.04), ("51", "四川省", 0.04), ("11", "北京市", 0.03), ("12", "天津市", 0.03),
    ("21", "辽宁省", 0.02), ("43", "湖南省", 0.02), ("42", "湖北省", 0.02), ("34", "安徽省", 0.015),
    ("41", "河南省", 0.015), ("13", "河北省", 0.01), ("14", "山西省", 0.01), ("22", "吉林省", 0.005),
    ("23", "黑龙江省", 0.005), ("46", "海南省", 0.005), ("50", "重庆市", 0.005), ("52", "贵州省", 0.005),
    ("53", "云南省", 0.005), ("54", "西藏自治区", 0.001), ("61", "陕西省", 0.005), ("62", "甘肃省", 0.005),
    ("63", "青海省", 0.002), ("64", "宁夏回族自治区", 0.004), ("65", "新疆维吾尔自治区", 0.004),
]  # fmt: skip
GACC_HEADER = gacc_format.DETAILED_HEADER


def gacc_periods(years=YEARS, months=range(1, 13)) -> list[str]:
    """China publishes January and February together (202501-02), then single months."""
    periods = []
    for year in years:
        if 1 in months or 2 in months:
            periods.append(f"{year}01-02")
        periods.extend(f"{year}{m:02d}" for m in months if m >= 3)
    return periods


def _thousands(expr: pl.Expr) -> pl.Expr:
    return (
        expr.cast(pl.String)
        .str.reverse()
        .str.replace_all(r"(\d{3})", "$1,")
        .str.strip_suffix(",")
        .str.reverse()
    )


def write_gacc_csv(path: Path, rows: int, seed: int = DEFAULT_SEED, periods: list[str] | None = None) -> Path:
    """A GACC query-platform export with trade mode and registration place: GBK, CRLF, CNY values
    with thousands separators, 总值 (World) rows without a partner code."""
    rng = np.random.default_rng(seed)
    periods = periods or gacc_periods()
    seen, products = set(), []
    for row in _seed_rows("products"):
        if row["source"] == "gacc" and row["product_code"] not in seen:
            seen.add(row["product_code"])
            products.append(row)
    partners = [
        r
        for r in _seed_rows("countries")
        if r["gacc_code"] and r["iso3"] != "CHN" and r["is_aggregate"] != "true"
    ]
    iso3 = [r["iso3"] for r in partners]
    partner_w = _ranked(partners, iso3, rng)
    product_w = np.where([p["stage"] == "magnet" for p in products], 6.0, 1.0) * rng.uniform(
        0.3, 1.0, len(products)
    )
    mode_w = np.array([m[2] for m in GACC_TRADE_MODES])
    place_w = np.array([p[2] for p in GACC_PLACES])
    n_per, n_prod, n_mode, n_place = len(periods), len(products), len(mode_w), len(place_w)
    cell_w = (
        np.ones(n_per)[:, None, None, None]
        * product_w[None, :, None, None]
        * mode_w[None, None, :, None]
        * place_w[None, None, None, :]
    ).ravel()
    cells, k, _ = _cells_and_rows(rng, rows, cell_w, len(partners), 0.0)
    cell_of_row, partner = _pick_partners(rng, k, partner_w, None)
    n_world = cells.shape[0]
    two_months = np.array([p.endswith("-02") for p in periods])[cells // (n_prod * n_mode * n_place)]
    kg = np.maximum(
        1, np.round(np.exp(rng.normal(7.5 + np.where(two_months[cell_of_row], 0.7, 0), 1.7)))
    ).astype(np.int64)
    cny_per_kg = np.exp(rng.normal(np.log(350.0), 0.8, kg.shape[0]))
    value = np.maximum(1, np.round(kg * cny_per_kg)).astype(np.int64)
    world_kg = np.bincount(cell_of_row, weights=kg, minlength=n_world).astype(np.int64)
    world_value = np.bincount(cell_of_row, weights=value, minlength=n_world).astype(np.int64)
    cell_all = np.concatenate([np.arange(n_world), cell_of_row])
    partner_all = np.concatenate([np.full(n_world, -1), partner])
    kg_all = np.concatenate([world_kg, kg])
    value_all = np.concatenate([world_value, value])
    order = np.lexsort((partner_all, cells[cell_all]))
    cell_idx, partner_all, kg_all, value_all = (
        cells[cell_all][order],
        partner_all[order],
        kg_all[order],
        value_all[order],
    )
    names = [GACC_ELEMENT_CN.get(p["element"], "") + GACC_FORM_CN.get(p["form"], "") for p in products]

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        for start in range(0, rows, CHUNK):
            sl = slice(start, min(rows, start + CHUNK))
            c, pt = cell_idx[sl], partner_all[sl]
            world = pt < 0
            prod = (c // (n_mode * n_place)) % n_prod
            mode, place = (c // n_place) % n_mode, c % n_place
            frame = pl.DataFrame(
                {
                    "数据年月": pl.Series(periods, dtype=pl.String).gather(c // (n_prod * n_mode * n_place)),
                    "商品编码": pl.Series([p["product_code"] for p in products]).gather(prod),
                    "商品名称": pl.Series(names).gather(prod),
                    "贸易伙伴编码": pl.Series([r["gacc_code"] for r in partners])
                    .gather(np.where(world, 0, pt))
                    .set(pl.Series(world), None),
                    "贸易伙伴名称": pl.Series(
                        np.where(
                            world,
                            "总值",
                            np.array([r["gacc_name"] for r in partners], dtype=object)[
                                np.where(world, 0, pt)
                            ],
                        ),
                        dtype=pl.String,
                    ),
                    "贸易方式编码": pl.Series([m[0] for m in GACC_TRADE_MODES]).gather(mode),
                    "贸易方式": pl.Series([m[1] for m in GACC_TRADE_MODES]).gather(mode),
                    "注册地编码": pl.Series([p[0] for p in GACC_PLACES]).gather(place),
                    "注册地": pl.Series([p[1] for p in GACC_PLACES]).gather(place),
                    "第一数量": pl.Series(kg_all[sl]),
                    "第一计量单位": pl.repeat("千克", sl.stop - sl.start, eager=True),
                    "第二数量": pl.repeat(None, sl.stop - sl.start, eager=True, dtype=pl.String),
                    "第二计量单位": pl.repeat(None, sl.stop - sl.start, eager=True, dtype=pl.String),
                    "人民币": pl.Series(value_all[sl]),
                }
            ).with_columns(_thousands(pl.col("第一数量")), _thousands(pl.col("人民币")))
            handle.write(gacc_format.frame_chunk_bytes(frame, include_header=start == 0))
    return path


# --- Census ------------------------------------------------------------------------------------

CENSUS_IMPORT_HEADER = census_format.IMPORT_HEADER
CENSUS_EXPORT_HEADER = census_format.EXPORT_HEADER


def census_months(years=YEARS, months=range(1, 13)) -> list[str]:
    return [f"{y}-{m:02d}" for y in years for m in months]


def _census_products(flow: str) -> list[dict]:
    """The seed's Census lines of the flow's code list: HTS for imports, Schedule B for exports
    (the product matches each endpoint against its own list and quarantines the other's codes)."""
    wanted = ("Schedule B", "HTS and Schedule B") if flow == "export" else ("HTS", "HTS and Schedule B")
    return [r for r in _seed_rows("products") if r["source"] == "census" and r["classification"] in wanted]


def census_capacity(months: list[str] | None = None, flow: str = "import") -> int:
    """Rows a file can hold at most: every (month, HS10 line[, DF]) x every partner and grouping."""
    months = months or census_months()
    products = {r["product_code"] for r in _census_products(flow)}
    partners = [
        r
        for r in _seed_rows("countries")
        if r["census_code"] and r["iso3"] != "USA" and r["is_aggregate"] != "true"
    ]
    groupings = _seed_rows("census_groupings")
    return len(months) * len(products) * (2 if flow == "export" else 1) * (len(partners) + len(groupings))


def write_census_json(
    path: Path, rows: int, seed: int = DEFAULT_SEED, months: list[str] | None = None, flow: str = "import"
) -> Path:
    """A Census intltrade API response: a JSON array of arrays, header first, every value a string."""
    rng = np.random.default_rng(seed)
    months = months or census_months()
    seen, products = set(), []
    for row in _census_products(flow):
        if row["product_code"] not in seen:
            seen.add(row["product_code"])
            products.append(row)
    countries = [
        r
        for r in _seed_rows("countries")
        if r["census_code"] and r["iso3"] != "USA" and r["is_aggregate"] != "true"
    ]
    groupings = [r for r in _seed_rows("census_groupings") if r["census_code"] != "-"]
    codes = [r["census_code"] for r in countries] + [g["census_code"] for g in groupings]
    names = [r["name"].upper() for r in countries] + [g["name"] for g in groupings]
    partner_w = np.concatenate(
        [_ranked(countries, [r["iso3"] for r in countries], rng), np.full(len(groupings), 0.05)]
    )
    dfs = ["1", "2"] if flow == "export" else [""]
    n_m, n_p, n_df = len(months), len(products), len(dfs)
    cell_w = (
        np.ones(n_m)[:, None, None]
        * rng.uniform(0.3, 1.0, n_p)[None, :, None]
        * np.array([0.8, 0.2][:n_df])[None, None, :]
    ).ravel()
    capacity = cell_w.shape[0] * (len(codes) + 1)
    if rows > capacity:
        raise ValueError(f"census {flow}: {rows} rows asked, the key space holds {capacity}")
    per_cell = max(rows / cell_w.shape[0], 1.0)
    if per_cell > len(codes) * 0.95:
        cells, k = np.arange(cell_w.shape[0]), None
    else:
        cells, k, _ = _cells_and_rows(rng, rows, cell_w, len(codes), 0.0)
    if k is None:
        k = _partition(
            rng, rows - cells.shape[0], np.ones(cells.shape[0]), 1, np.full(cells.shape[0], len(codes))
        )
    cell_of_row, partner = _pick_partners(rng, k, partner_w, None)
    kg = np.maximum(1, np.round(np.exp(rng.normal(8.0, 1.8, cell_of_row.shape[0])))).astype(np.int64)
    usd = np.maximum(1, np.round(kg * np.exp(rng.normal(np.log(45.0), 0.7, kg.shape[0])))).astype(np.int64)
    n_world = cells.shape[0]
    country = partner < len(countries)  # World is the sum of countries, never of groupings
    world_kg = np.bincount(cell_of_row, weights=np.where(country, kg, 0), minlength=n_world).astype(np.int64)
    world_usd = np.bincount(cell_of_row, weights=np.where(country, usd, 0), minlength=n_world).astype(
        np.int64
    )
    cell_all = np.concatenate([np.arange(n_world), cell_of_row])
    partner_all = np.concatenate([np.full(n_world, -1), partner])
    kg_all, usd_all = np.concatenate([world_kg, kg]), np.concatenate([world_usd, usd])
    order = np.lexsort((partner_all, cells[cell_all]))
    c, pt, kg_all, usd_all = cells[cell_all][order], partner_all[order], kg_all[order], usd_all[order]
    world = pt < 0
    month = c // (n_p * n_df)
    prod = (c // n_df) % n_p
    df = c % n_df
    frame = pl.DataFrame(
        {
            "commodity": pl.Series([p["product_code"] for p in products]).gather(prod),
            "desc": pl.Series([p["description"].upper().replace('"', "") for p in products]).gather(prod),
            "cty": pl.Series(
                np.where(world, "-", np.array(codes, dtype=object)[np.where(world, 0, pt)]), dtype=pl.String
            ),
            "name": pl.Series(
                np.where(
                    world, "TOTAL FOR ALL COUNTRIES", np.array(names, dtype=object)[np.where(world, 0, pt)]
                ),
                dtype=pl.String,
            ),
            "value": pl.Series(usd_all).cast(pl.String),
            "value2": pl.Series(np.round(usd_all * 0.98).astype(np.int64)).cast(pl.String),
            "cif": pl.Series(np.round(usd_all * 1.04).astype(np.int64)).cast(pl.String),
            "qty": pl.Series(kg_all).cast(pl.String),
            "qty2": pl.Series(np.round(kg_all * 0.98).astype(np.int64)).cast(pl.String),
            "unit": pl.repeat("KG", c.shape[0], eager=True),
            "df": pl.Series(dfs).gather(df),
            "time": pl.Series(months).gather(month),
            "lvl": pl.repeat("HS10", c.shape[0], eager=True),
        }
    )
    if flow == "import":
        header, cols = (
            CENSUS_IMPORT_HEADER,
            [
                "commodity",
                "desc",
                "cty",
                "name",
                "value",
                "value2",
                "cif",
                "qty",
                "qty2",
                "unit",
                "time",
                "lvl",
            ],
        )
    else:
        header, cols = (
            CENSUS_EXPORT_HEADER,
            ["commodity", "desc", "cty", "name", "value", "qty", "unit", "df", "time", "lvl"],
        )
    line = pl.concat_str(
        [pl.lit('["'), pl.concat_str([pl.col(x) for x in cols], separator='","'), pl.lit('"]')]
    )
    lines = frame.select(line.alias("line"))["line"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("[" + census_format.row_text(header))
        for start in range(0, lines.len(), CHUNK):
            handle.write(",\n" + ",\n".join(lines.slice(start, CHUNK).to_list()))
        handle.write("]\n")
    return path


# --- FX (CNY before the shipped sample's 2020 start, so GACC values convert) ---------------------


def write_fx_csv(
    path: Path, first: dt.date = dt.date(2014, 12, 1), last: dt.date = dt.date(2019, 12, 31)
) -> Path:
    rng = np.random.default_rng(7)
    lines = ["date,currency,per_usd"]
    cny, eur = 6.2, 0.80
    day = first
    while day <= last:
        if day.weekday() < 5:
            cny = float(np.clip(cny * np.exp(rng.normal(0, 0.002)), 6.0, 7.3))
            eur = float(np.clip(eur * np.exp(rng.normal(0, 0.004)), 0.78, 0.97))
            lines += [f"{day},CNY,{cny:.4f}", f"{day},EUR,{eur:.4f}"]
        day += dt.timedelta(days=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- an inbox: ten years, plus one new month ---------------------------------------------------

HISTORY = tuple(range(2015, 2025))
NEW_YEAR = 2025


def lake_split(rows: int) -> dict[str, int]:
    """How N trade rows of a lake split over the sources: 85 % Comtrade, 12 % GACC, 3 % Census
    (Census capped at what its key space holds)."""
    census = min(int(rows * 0.03), int(0.8 * census_capacity(census_months(HISTORY), "import")))
    gacc = int(rows * 0.12)
    return {"comtrade": rows - gacc - census, "gacc": gacc, "census": census}


def write_inbox(inbox: Path, rows: int, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Ten years (2015-2024) of all three customs sources, one file per source and year (Census:
    per flow and year), plus the shipped prices, FX and USGS samples and generated 2014-2019 FX.
    Returns rows written per source."""
    split = lake_split(rows)
    written = {k: 0 for k in split}

    def share(total: int, i: int) -> int:
        return total // len(HISTORY) + (1 if i < total % len(HISTORY) else 0)

    for i, year in enumerate(HISTORY):
        n = share(split["comtrade"], i)
        write_comtrade_csv(
            inbox / "comtrade" / f"comtrade_{year}.csv", n, seed + year, comtrade_periods([year])
        )
        written["comtrade"] += n
        n = share(split["gacc"], i)
        write_gacc_csv(
            inbox / "gacc" / "exports" / f"gacc_exports_{year}.csv", n, seed + year, gacc_periods([year])
        )
        written["gacc"] += n
        n = share(split["census"], i)
        if n:
            n_imp = n // 3
            write_census_json(
                inbox / "census" / f"census_imports_{year}.json",
                n_imp,
                seed + year,
                census_months([year]),
                "import",
            )
            write_census_json(
                inbox / "census" / f"census_exports_{year}.json",
                n - n_imp,
                seed + year,
                census_months([year]),
                "export",
            )
            written["census"] += n
    for folder in ("prices", "fx", "usgs"):
        shutil.copytree(SAMPLES / folder, inbox / folder, dirs_exist_ok=True)
    write_fx_csv(inbox / "fx" / "fx_rates_2014_2019.csv")
    return written


def write_new_month(inbox: Path, rows: int, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """One new month on top of the ten years (January 2025; GACC's January+February 2025 release),
    sized as one month of the history: a lake of N rows gets about N / 130 new rows."""
    split = lake_split(rows)
    periods_per_year = {"comtrade": 13, "gacc": 11, "census": 12}
    written = {}
    n = max(10, split["comtrade"] // (len(HISTORY) * periods_per_year["comtrade"]))
    write_comtrade_csv(
        inbox / "comtrade" / f"comtrade_{NEW_YEAR}_01.csv",
        n,
        seed + 1,
        comtrade_periods([NEW_YEAR], ("M",), [1]),
    )
    written["comtrade"] = n
    n = max(10, split["gacc"] // (len(HISTORY) * periods_per_year["gacc"]))
    write_gacc_csv(
        inbox / "gacc" / "exports" / f"gacc_exports_{NEW_YEAR}_01-02.csv",
        n,
        seed + 1,
        gacc_periods([NEW_YEAR], [1, 2]),
    )
    written["gacc"] = n
    n = split["census"] // (len(HISTORY) * periods_per_year["census"])
    if n >= 20:
        write_census_json(
            inbox / "census" / f"census_imports_{NEW_YEAR}_01.json",
            n // 3,
            seed + 1,
            census_months([NEW_YEAR], [1]),
            "import",
        )
        write_census_json(
            inbox / "census" / f"census_exports_{NEW_YEAR}_01.json",
            n - n // 3,
            seed + 1,
            census_months([NEW_YEAR], [1]),
            "export",
        )
        written["census"] = n
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "kind", choices=["comtrade-csv", "comtrade-json", "gacc-csv", "census-json", "inbox", "new-month"]
    )
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--flow", choices=["import", "export"], default="import")
    args = parser.parse_args(argv)
    if args.kind == "comtrade-csv":
        write_comtrade_csv(args.out, args.rows, args.seed)
    elif args.kind == "comtrade-json":
        write_comtrade_json(args.out, args.rows, args.seed)
    elif args.kind == "gacc-csv":
        write_gacc_csv(args.out, args.rows, args.seed)
    elif args.kind == "census-json":
        write_census_json(args.out, args.rows, args.seed, flow=args.flow)
    elif args.kind == "inbox":
        print(write_inbox(args.out, args.rows, args.seed))
    else:
        print(write_new_month(args.out, args.rows, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
