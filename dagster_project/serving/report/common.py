"""What every chart module shares: the `Chart` and `Panel` types, `NoData`, named-column reads,
and the small formatting helpers (periods in words, month axes, the page's look)."""

import datetime
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import duckdb
import plotly.graph_objects as go
from plotly.colors import qualitative

PALETTE = qualitative.D3 + qualitative.Set2
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
FREQ_GROUPS = {"A": "Annual", "M": "Monthly", "M2": "Monthly"}
WHAT_TO_LOAD = {
    "mart_china_exports_by_stage": "drop China's exports in the inbox (GACC monthly CSVs in "
    "gacc/exports/, or a Comtrade China-exports JSON in comtrade/) and run `make run`",
    "mart_mirror_flows": "load both sides of the trade (China's exports: gacc/exports/ or comtrade/; "
    "US imports: census/ or comtrade/) and run `make run`",
    "mart_supplier_concentration": "load US imports by partner country (census/ monthly for a full "
    "year, or comtrade/ annual) and run `make run`",
    "rpt_export_control_exposure": "load element-specific export lines (GACC national lines in "
    "gacc/exports/ or US Census HTS10 in census/; Comtrade's HS6 lines carry no element) and run "
    "`make run`",
    "rpt_unit_value_vs_price": "load element-specific customs lines (gacc/exports/ or census/) and "
    "benchmark prices (prices/, with FX rates in fx/) and run `make run`",
    "mart_upcoming_suspension_expiries": "no export-control suspension ends within "
    "suspension_expiry_window_days (dbt var, default 365) of the as-of date, before or after it "
    "(suspensions come from the seed export_control_status, see dim_export_control_status); "
    "rebuild with `make run` to count from today",
    "mart_china_us_element_flows": "load both sides by element (China's GACC 10-digit export lines "
    "in gacc/exports/ and US Census HTS10 imports in census/, same months) and run `make run`",
}


@dataclass(frozen=True)
class Panel:
    """One section of the page: a figure, or `no_data` saying why there is none."""

    key: str
    title: str
    caption: str
    figure: go.Figure | None = None
    no_data: str | None = None


class NoData(Exception):
    """Raised by a chart builder: the message is the reason shown in the "no data" panel."""


@dataclass(frozen=True)
class Chart:
    """One chart: the mart it reads (and the columns it needs), and the builder that returns
    (figure, caption detail) or raises NoData."""

    key: str
    title: str
    mart: str
    columns: tuple[str, ...]
    units: str
    build: Callable[[duckdb.DuckDBPyConnection], tuple[go.Figure, str]]

    def base_caption(self) -> str:
        return f"Source: marts.{self.mart}. Units: {self.units}."


def records(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[NamedTuple]:
    """The rows of `sql`, each a named tuple whose fields are the query's column names."""
    cursor = con.execute(sql, list(params))
    row = namedtuple("Row", [column[0] for column in cursor.description], rename=True)  # noqa: PYI024
    return [row(*values) for values in cursor.fetchall()]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> Any:
    """The one value of a one-row, one-column query."""
    return con.execute(sql, list(params)).fetchone()[0]


def month_text(value: datetime.date | None) -> str:
    return value.strftime("%Y-%m") if value else "?"


def period_text(dates: Iterable[datetime.date]) -> str:
    dates = sorted(d for d in dates if d is not None)
    if not dates:
        return "none"
    if dates[0] == dates[-1]:
        return month_text(dates[0])
    return f"{month_text(dates[0])} to {month_text(dates[-1])}"


def years_text(years: Iterable[int]) -> str:
    years = sorted({y for y in years if y is not None})
    if not years:
        return "none"
    return str(years[0]) if len(years) == 1 else f"{years[0]} to {years[-1]}"


def values_text(values: Iterable[Any]) -> str:
    found = sorted({str(v) for v in values if v is not None})
    return ", ".join(found) if found else "none"


def world_text(bases: Iterable[str | None]) -> str:
    """How the rows' partner WLD figures were made (their world_basis, macro world_totals)."""
    found = {basis for basis in bases if basis}
    if found == {"declared"}:
        return "partner WLD (declared)"
    if found == {"sum_of_countries"}:
        return "partner WLD (the sum of the country rows: no WLD row declared)"
    return "partner WLD where declared, else the sum of the country rows"


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def layout(fig: go.Figure, height: int, x_title: bool = False, **extra: Any) -> go.Figure:
    # The legend sits under the plot, below the tick labels (and the x-axis title when there is one).
    legend_y = -(80 if x_title else 45) / max(height - 100, 150)
    fig.update_layout(
        height=height,
        margin={"l": 70, "r": 30, "t": 40, "b": 50},
        font={"family": FONT, "size": 12},
        legend={"orientation": "h", "yanchor": "top", "y": legend_y, "x": 0},
        hovermode="closest",
        template="plotly_white",
        **extra,
    )
    return fig


def month_axis(fig: go.Figure, dates: Iterable[datetime.date], **where: Any) -> None:
    """Month ticks ("Mar 2025") on a date axis, however few the periods (plotly would show hours)."""
    dates = sorted(set(dates))
    span = (dates[-1].year - dates[0].year) * 12 + dates[-1].month - dates[0].month if dates else 0
    step = 1 if span <= 12 else 3 if span <= 36 else 6 if span <= 72 else 12
    fig.update_xaxes(dtick=f"M{step}", tickformat="%b %Y", hoverformat="%b %Y", **where)
    if len(dates) == 1:  # one period: give the axis a month either side
        only = dates[0]
        before = datetime.date(only.year - (only.month == 1), (only.month - 2) % 12 + 1, 1)
        after = datetime.date(only.year + (only.month == 12), only.month % 12 + 1, 1)
        fig.update_xaxes(range=[before.isoformat(), after.isoformat()], **where)


def month_slots(periods: Iterable[tuple[datetime.date, str]]) -> list[tuple[datetime.date, str]]:
    """Every month from the first period to the last as (month, label), gaps included, for a category
    axis (bars on a date axis collapse when there is one period). An M2 January takes February's slot."""
    present = dict(sorted(periods))
    if not present:
        return []
    slots = []
    month, end = min(present), max(present)
    while month <= end:
        if present.get(month) == "M2":
            slots.append((month, f"Jan+Feb {month:%Y}"))
        elif not (month.month == 2 and month not in present and present.get(month.replace(month=1)) == "M2"):
            slots.append((month, f"{month:%b %Y}"))
        month = datetime.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return slots
