"""GACC's period grammar: the texts China customs writes for a month, and for January+February
combined (freq M2), parsed into (freq, period, year, month) or a problem that quarantines the row.

Months: "202503", "2025-03", "2025年03月", "2025年3月". January+February: "2025年1-2月", "202501-02",
"2025-01~02", "202501-202502" (period 2025-01/02, never split over two months). Any other range
(a cumulative "1-3月") is not monthly data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

PERIOD = "数据年月"


@dataclass(frozen=True)
class Period:
    freq: str | None = None
    period: str | None = None
    year: int | None = None
    month: int | None = None
    problem: str | None = None


_MONTH_PATTERNS = [
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})-(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月$"),
]
_RANGE_PATTERNS = [
    re.compile(r"^(\d{4})年(\d{1,2})月?\s*[-~至]\s*(\d{1,2})月$"),
    re.compile(r"^(\d{4})(\d{2})\s*[-~]\s*(\d{2})$"),
    re.compile(r"^(\d{4})-(\d{2})\s*~\s*(\d{2})$"),
    re.compile(r"^(\d{4})(\d{2})\s*[-~]\s*(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})-(\d{2})\s*~\s*(\d{4})-(\d{2})$"),
]


def parse_period(text: str | None) -> Period:
    """One month (freq M), or January+February combined (freq M2, period yyyy-01/02)."""
    if text is None or not text.strip():
        return Period(problem="period (数据年月) is missing")
    text = text.strip()
    for pattern in _MONTH_PATTERNS:
        if match := pattern.match(text):
            year, month = int(match[1]), int(match[2])
            if not 1 <= month <= 12:
                return Period(problem=f"period {text} has no month {month}")
            return Period("M", f"{year}-{month:02d}", year, month)
    for pattern in _RANGE_PATTERNS:
        if match := pattern.match(text):
            groups = [int(g) for g in match.groups()]
            if len(groups) == 4:
                year, first, end_year, last = groups
                if end_year != year:
                    return Period(problem=f"period {text} spans two years")
            else:
                year, first, last = groups
            if (first, last) != (1, 2):
                return Period(
                    problem=f"period {text} spans months {first}-{last}: only January+February come "
                    "combined (a cumulative figure is not monthly data; export single months)"
                )
            return Period("M2", f"{year}-01/02", year, 1)
    return Period(
        problem=f"unknown period format {text} (expected e.g. 202503, 2025-03, 2025年3月 or 2025年1-2月)"
    )


def periods_table(raw: pl.Series) -> pl.DataFrame:
    """Each distinct period text of `raw` parsed once, as a table to join back on `PERIOD`."""
    texts = raw.unique().to_list()
    parsed = [parse_period(t) for t in texts]
    return pl.DataFrame(
        {
            PERIOD: texts,
            "freq": [p.freq for p in parsed],
            "period": [p.period for p in parsed],
            "year": [p.year for p in parsed],
            "month": [p.month for p in parsed],
            "_period_problem": [p.problem for p in parsed],
        },
        schema={
            PERIOD: pl.String,
            "freq": pl.String,
            "period": pl.String,
            "year": pl.Int32,
            "month": pl.Int32,
            "_period_problem": pl.String,
        },
    )
