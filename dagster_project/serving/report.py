"""The supply-risk report: one self-contained HTML page of plotly charts read from the serving file.

Everything here is a plain function. `build_report` opens `serving/ree.duckdb` read-only for the
duration of the queries only (as any BI reader does: it never blocks a publish, and it sees one
consistent version of the file), turns each mart into a `Panel` (a figure, or the reason there is
none), renders one HTML page and writes it atomically to `$REE_DATA_DIR/reports/supply_risk.html`.

The page needs no network: plotly.js is embedded once, inline, and there is no web font, CDN
stylesheet or external script. A chart whose mart is missing, empty or lacks a column shows a
"no data: <why, what to load>" panel instead of failing the report.

Tables are queried without a catalog (`fct_trade_flows`, `audit.load_log`): the connection's
default schema is set to `marts`, so the queries work whatever the file is called. Captions name
them as analysts do, `marts.<table>`.
"""

import datetime
import html
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from dagster_project.settings import Settings, get_settings

REPORT_NAME = "supply_risk.html"
PAGE_TITLE = "Rare-earth supply risk"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
PALETTE = qualitative.D3 + qualitative.Set2
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
SERIES_LABELS = {"rare_earths": "Rare earths (compounds + metals)", "magnets": "Magnets"}
STAGE_LABELS = {
    "compound": "compounds",
    "metal_alloy": "metals & alloys",
    "magnet": "magnets",
    "ore_concentrate": "ores & concentrates",
}
STAGE_COLOURS = {
    ("rare_earths", "compound"): "#1f77b4",
    ("rare_earths", "metal_alloy"): "#6baed6",
    ("magnets", "magnet"): "#d62728",
}
FREQ_GROUPS = {"A": "Annual", "M": "Monthly", "M2": "Monthly"}
EXPOSURE_MONTHS = 12  # months either side of an effective date shown on the exposure chart
# Export-control statuses in words (dim_export_control_status.status_label says the same).
STATUS_LABELS = {
    "not_yet_announced": "not yet announced",
    "announced_not_effective": "announced, not yet in effect",
    "in_force": "in force",
    "suspended": "suspended",
    "expired_status_unconfirmed": "suspension expired; status after expiry unconfirmed",
}
WHAT_TO_LOAD = {
    "mart_china_exports_by_stage": "drop China's exports in the inbox (GACC monthly CSVs in "
    "gacc/exports/, or a Comtrade China-exports JSON in comtrade/) and run `make run`",
    "mart_mirror_flows": "load both sides of the trade (China's exports: gacc/exports/ or comtrade/; "
    "US imports: census/ or comtrade/) and run `make run`",
    "mart_supplier_concentration": "load US imports by partner country (census/ monthly for a full "
    "year, or comtrade/ annual) and run `make run`",
    "mart_export_control_exposure": "load element-specific export lines (GACC national lines in "
    "gacc/exports/ or US Census HTS10 in census/; Comtrade's HS6 lines carry no element) and run "
    "`make run`",
    "mart_unit_value_vs_price": "load element-specific customs lines (gacc/exports/ or census/) and "
    "benchmark prices (prices/, with FX rates in fx/) and run `make run`",
    "mart_upcoming_suspension_expiries": "no export-control suspension ends within "
    "suspension_expiry_window_days (dbt var, default 365) of the as-of date, before or after it "
    "(suspensions come from the seed export_control_status, see dim_export_control_status); "
    "rebuild with `make run` to count from today",
}


@dataclass(frozen=True)
class Panel:
    """One section of the page: a figure, or `no_data` saying why there is none."""

    key: str
    title: str
    caption: str
    figure: go.Figure | None = None
    no_data: str | None = None


@dataclass(frozen=True)
class ServingInfo:
    path: Path
    published_at: datetime.datetime | None = None
    loads: list[tuple[str, int, datetime.datetime | None]] = field(default_factory=list)


@dataclass(frozen=True)
class ReportResult:
    path: Path
    charts_rendered: list[str]
    charts_empty: dict[str, str]

    def metadata(self) -> dict[str, Any]:
        return {"rendered": self.charts_rendered, "empty": self.charts_empty}


class NoData(Exception):
    """Raised by a chart builder: the message is the reason shown in the "no data" panel."""


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    mart: str
    columns: tuple[str, ...]
    units: str
    build: Callable[[duckdb.DuckDBPyConnection], tuple[go.Figure, str]]

    def base_caption(self) -> str:
        return f"Source: marts.{self.mart}. Units: {self.units}."


# ---------------------------------------------------------------------------------------------
# Small helpers


def report_path(settings: Settings | None = None) -> Path:
    """`$REE_DATA_DIR/reports/supply_risk.html`."""
    return (settings or get_settings()).data_dir / "reports" / REPORT_NAME


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def _month(value: datetime.date | None) -> str:
    return value.strftime("%Y-%m") if value else "?"


def _period(dates: Iterable[datetime.date]) -> str:
    dates = sorted(d for d in dates if d is not None)
    if not dates:
        return "none"
    return _month(dates[0]) if dates[0] == dates[-1] else f"{_month(dates[0])} to {_month(dates[-1])}"


def _years(years: Iterable[int]) -> str:
    years = sorted({y for y in years if y is not None})
    if not years:
        return "none"
    return str(years[0]) if len(years) == 1 else f"{years[0]} to {years[-1]}"


def _values(values: Iterable[Any]) -> str:
    found = sorted({str(v) for v in values if v is not None})
    return ", ".join(found) if found else "none"


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _layout(fig: go.Figure, height: int, x_title: bool = False, **extra: Any) -> go.Figure:
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


def _month_axis(fig: go.Figure, dates: Iterable[datetime.date], **where: Any) -> None:
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


def _month_slots(periods: Iterable[tuple[datetime.date, str]]) -> list[tuple[datetime.date, str]]:
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


def _mart_problem(con: duckdb.DuckDBPyConnection, chart: Chart) -> str | None:
    """Why a mart cannot be charted (missing, lacking columns, empty), or None when it can."""
    table = chart.mart
    found = {
        name
        for (name,) in _rows(
            con,
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = 'marts' and table_name = ?",
            [table],
        )
    }
    if not found:
        return (
            f"marts.{table} is not in the serving file: the dbt model {table} was not built or not "
            f"published yet; build and publish it with `make run`, then {WHAT_TO_LOAD[table]}"
        )
    missing = [column for column in chart.columns if column not in found]
    if missing:
        return (
            f"marts.{table} has no column {', '.join(missing)}: the mart changed; republish with "
            f"`make run`, or align this chart with dbt/models/marts/{table}.yml"
        )
    count = _rows(con, f'select count(*) from marts."{table}"')[0][0]  # noqa: S608 (known table)
    if count == 0:
        return f"marts.{table} has no rows; {WHAT_TO_LOAD[table]}"
    return None


# ---------------------------------------------------------------------------------------------
# The charts. Each builder returns (figure, caption detail) or raises NoData(reason).


def _china_exports(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = _rows(
        con,
        """
        select period_start, freq, series, stage, sum(net_weight_kg) / 1000.0 as tonnes,
               string_agg(distinct source, ', ' order by source) as sources,
               string_agg(distinct world_basis, ', ' order by world_basis) as world_basis
        from mart_china_exports_by_stage
        where partner_iso3 = 'WLD' and series in ('rare_earths', 'magnets')
        group by all
        order by period_start, series, stage
        """,
    )
    if not rows:
        raise NoData(
            "marts.mart_china_exports_by_stage has no World (WLD) rows in the series rare_earths or "
            f"magnets; {WHAT_TO_LOAD['mart_china_exports_by_stage']}"
        )
    slots = _month_slots((r[0], r[1]) for r in rows)
    index = {month: i for i, (month, _) in enumerate(slots)}
    x = [label for _, label in slots]
    hover = [label + (" (M2: two months together)" if label.startswith("Jan+") else "") for label in x]
    fig = go.Figure()
    series_seen: list[str] = []
    for series in ("rare_earths", "magnets"):
        stages = sorted({r[3] for r in rows if r[2] == series})
        base = [0.0] * len(slots)
        for stage in stages:
            values: list[float | None] = [None] * len(slots)
            for r in rows:
                if r[2] == series and r[3] == stage:
                    values[index[r[0]]] = (values[index[r[0]]] or 0.0) + (r[4] or 0.0)
            fig.add_bar(
                x=x,
                y=values,
                base=list(base),
                offsetgroup=series,
                name=f"{SERIES_LABELS[series]}: {STAGE_LABELS.get(stage, stage)}",
                legendgroup=series,
                marker_color=STAGE_COLOURS.get((series, stage), _colour(len(fig.data))),
                marker_pattern_shape=["/" if label.startswith("Jan+") else "" for label in x],
                customdata=hover,
                hovertemplate="%{customdata}<br>%{fullData.name}: %{y:,.1f} t<extra></extra>",
            )
            base = [b + (v or 0.0) for b, v in zip(base, values, strict=True)]
        if stages:
            series_seen.append(series)
    _layout(fig, 460, barmode="group", bargap=0.15, yaxis_title="tonnes (net weight)")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x)
    sources = _values(s for r in rows for s in (r[5] or "").split(", "))
    bases = _values(b for r in rows for b in (r[6] or "").split(", ") if b)
    missing = [SERIES_LABELS[s].lower() for s in ("rare_earths", "magnets") if s not in series_seen]
    detail = (
        f"Rows: partner WLD (world_basis: {bases}); series {', '.join(series_seen)}; source: {sources} "
        "(one source per period: gacc when it has the period, else comtrade). "
        f"Period: {_period(r[0] for r in rows)}, monthly; a hatched 'Jan+Feb' bar is an M2 period, "
        "January and February together."
    )
    if missing:
        detail += (
            f" No {' or '.join(missing)} rows: Comtrade's HS 850511 also holds ferrite magnets and counts "
            "as other; the magnets series needs GACC line 8505111000."
        )
    return fig, detail


def _mirror_gap(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = _rows(
        con,
        """
        select freq, period_start,
               sum(export_value_usd) / 1e6, sum(import_value_usd) / 1e6, sum(value_gap_usd) / 1e6,
               count(*) as hs6_lines,
               string_agg(distinct export_source, ', ' order by export_source),
               string_agg(distinct import_source, ', ' order by import_source)
        from mart_mirror_flows
        where exporter_iso3 = 'CHN' and importer_iso3 = 'USA'
          and export_value_usd is not null and import_value_usd is not null
        group by all
        order by freq, period_start
        """,
    )
    one_sided = _rows(
        con,
        "select count(*) from mart_mirror_flows where exporter_iso3 = 'CHN' and importer_iso3 = 'USA' "
        "and (export_value_usd is null or import_value_usd is null)",
    )[0][0]
    if not rows:
        raise NoData(
            "marts.mart_mirror_flows has no China→US row where both sides declared a value "
            f"({one_sided} one-sided rows); {WHAT_TO_LOAD['mart_mirror_flows']}"
        )
    groups = [g for g in ("Annual", "Monthly") if any(FREQ_GROUPS.get(r[0]) == g for r in rows)]
    fig = make_subplots(
        rows=len(groups), cols=1, subplot_titles=[f"{g} periods" for g in groups], vertical_spacing=0.16
    )
    for row, group in enumerate(groups, start=1):
        part = [r for r in rows if FREQ_GROUPS.get(r[0]) == group]
        if group == "Annual":
            x: list[Any] = [r[1].year for r in part]
            hover = [f"{r[1]:%Y}" for r in part]
        else:  # monthly bars on a category axis of every month, gaps included
            slots = _month_slots((r[1], r[0]) for r in part)
            by_month = {r[1]: r for r in part}
            x = [label for _, label in slots]
            hover = x
            part = [by_month.get(month, (None, month, None, None, None)) for month, _ in slots]
        first = row == 1
        for name, values, colour in (
            ("China's declared exports (FOB)", [r[2] for r in part], "#1f77b4"),
            ("US declared imports (CIF / customs value)", [r[3] for r in part], "#ff7f0e"),
        ):
            fig.add_bar(
                x=x,
                y=values,
                name=name,
                legendgroup=name,
                showlegend=first,
                marker_color=colour,
                customdata=hover,
                hovertemplate="%{customdata}<br>" + name + ": %{y:,.2f} M USD<extra></extra>",
                row=row,
                col=1,
            )
        fig.add_scatter(
            x=x,
            y=[r[4] for r in part],
            name="gap: imports − exports",
            legendgroup="gap",
            showlegend=first,
            mode="lines+markers",
            line={"color": "#2ca02c", "width": 2},
            marker={"size": 9},
            customdata=hover,
            hovertemplate="%{customdata}<br>gap: %{y:,.2f} M USD<extra></extra>",
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="million USD", row=row, col=1)
        if group == "Annual":
            fig.update_xaxes(dtick=1, tickformat="d", row=row, col=1)
        else:
            fig.update_xaxes(type="category", categoryorder="array", categoryarray=x, row=row, col=1)
    _layout(fig, 330 * len(groups) + 80, barmode="group")
    detail = (
        f"Rows: exporter CHN, importer USA, HS6 lines where both sides declared a value ({one_sided} "
        f"one-sided rows left out), summed over HS6; export_source: {_values(r[6] for r in rows)}; "
        f"import_source: {_values(r[7] for r in rows)}. Period: {_period(r[1] for r in rows)} "
        f"(freq {_values(r[0] for r in rows)}; annual and monthly are never added). A gap around +5 to +10 % "
        "of exports is freight and insurance; far from it signals misreporting or timing."
    )
    return fig, detail


def _hs6_labels(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    try:
        rows = _rows(
            con,
            "select hs6, any_value(description order by source) from dim_product "
            "where product_code = hs6 group by hs6",
        )
    except duckdb.Error:
        return {}
    return {hs6: (text or "") for hs6, text in rows}


def _supplier_concentration(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = _rows(
        con,
        """
        select source, hs6, year, year_basis, hhi, china_share, supplier_count, top1_partner_iso3
        from mart_supplier_concentration
        where importer_iso3 = 'USA'
        order by source, hs6, year
        """,
    )
    if not rows:
        raise NoData(
            "marts.mart_supplier_concentration has no row for importer USA; "
            f"{WHAT_TO_LOAD['mart_supplier_concentration']}"
        )
    labels = _hs6_labels(con)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    lines = sorted({(r[0], r[1]) for r in rows}, key=lambda k: (k[1], k[0]))
    for i, (source, hs6) in enumerate(lines):
        part = [r for r in rows if (r[0], r[1]) == (source, hs6)]
        colour = _colour(i)
        name = f"{hs6} ({source})"
        hover = [
            f"{hs6} {labels.get(hs6, '')[:60]}<br>{r[2]} ({r[3]}), {r[6]} suppliers, largest {r[7]}"
            for r in part
        ]
        fig.add_scatter(
            x=[r[2] for r in part],
            y=[r[4] for r in part],
            name=f"HHI {name}",
            legendgroup=name,
            mode="lines+markers",
            line={"color": colour, "width": 2},
            customdata=hover,
            hovertemplate="%{customdata}<br>HHI %{y:,.0f}<extra></extra>",
            secondary_y=False,
        )
        fig.add_scatter(
            x=[r[2] for r in part],
            y=[100 * r[5] if r[5] is not None else None for r in part],
            name=f"China share {name}",
            legendgroup=name,
            mode="lines+markers",
            line={"color": colour, "width": 1.5, "dash": "dot"},
            marker={"symbol": "diamond"},
            customdata=hover,
            hovertemplate="%{customdata}<br>China share %{y:.1f} %<extra></extra>",
            secondary_y=True,
        )
    _layout(fig, 460)
    fig.update_xaxes(dtick=1, tickformat="d")
    fig.update_yaxes(title_text="HHI (0–10,000), solid", range=[0, 10_000], secondary_y=False)
    fig.update_yaxes(title_text="China share of value (%), dotted", range=[0, 100], secondary_y=True)
    detail = (
        f"Rows: importer USA, one line per HS6 and source (source: {_values(r[0] for r in rows)}; "
        f"year_basis: {_values(r[3] for r in rows)}; sources are never added). HHI from value shares of "
        f"partner countries (World and areas excluded). Period: {_years(r[2] for r in rows)}."
    )
    return fig, detail


def _export_control_exposure(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = _rows(
        con,
        """
        with flagged as (
            select *,
                   bool_or(partner_iso3 = 'WLD') over (
                       partition by regime_id, element, source, reporter_iso3, period_start
                   ) as has_world
            from mart_export_control_exposure
            where months_from_effective between ? and ?
        )
        select regime_id, element, source, reporter_iso3, effective_date, months_from_effective,
               sum(element_kg) / 1000.0 as tonnes, min(period_start), max(period_start),
               bool_or(partner_iso3 = 'WLD') as world, freq
        from flagged
        where (has_world and partner_iso3 = 'WLD') or (not has_world and partner_iso3 <> 'WLD')
        group by all
        order by regime_id, element, source, reporter_iso3, months_from_effective
        """,
        [-EXPOSURE_MONTHS, EXPOSURE_MONTHS],
    )
    if not rows:
        raise NoData(
            f"marts.mart_export_control_exposure has no flows within {EXPOSURE_MONTHS} months of an "
            f"effective date; {WHAT_TO_LOAD['mart_export_control_exposure']}"
        )
    fig = go.Figure()
    fig.add_vrect(x0=-6.5, x1=-0.5, fillcolor="#bbbbbb", opacity=0.15, line_width=0, layer="below")
    fig.add_vrect(x0=-0.5, x1=5.5, fillcolor="#d62728", opacity=0.07, line_width=0, layer="below")
    fig.add_vline(x=0, line_dash="dash", line_color="#444", annotation_text="effective month")
    keys = sorted({(r[1], r[0], r[2], r[3]) for r in rows})
    for i, (element, regime, source, reporter) in enumerate(keys):
        part = [r for r in rows if (r[1], r[0], r[2], r[3]) == (element, regime, source, reporter)]
        name = f"{element} · {regime} ({reporter}, {source})"
        hover = [
            f"{name}<br>effective {r[4]:%Y-%m-%d}, month {r[5]:+d}"
            + (" (Jan+Feb: two months together)" if r[10] == "M2" else "")
            for r in part
        ]
        fig.add_scatter(
            x=[r[5] for r in part],
            y=[r[6] for r in part],
            name=name,
            mode="lines+markers",
            line={"color": _colour(i), "width": 2},
            marker={
                "symbol": ["square-open" if r[10] == "M2" else "circle" for r in part],
                "size": [11 if r[10] == "M2" else 7 for r in part],
            },
            customdata=hover,
            hovertemplate="%{customdata}<br>%{y:,.3f} t of element<extra></extra>",
        )
    _layout(fig, 460, x_title=True, xaxis_title="months from the control's effective month (0 = effective)")
    fig.update_xaxes(dtick=1, zeroline=False)
    fig.update_yaxes(title_text="tonnes of element (export)")
    world = "partner WLD" if all(r[9] for r in rows) else "partner WLD where declared, else sum of countries"
    detail = (
        f"Rows: {world}; regimes {_values(r[0] for r in rows)}; reporters {_values(r[3] for r in rows)}; "
        f"source: {_values(r[2] for r in rows)} (sources side by side, never added); allocation exact or "
        f"assumed_composition. Shaded: before window (months −6 to −1) and after window (0 to 5). "
        f"Period: {_period([r[7] for r in rows] + [r[8] for r in rows])}, months −{EXPOSURE_MONTHS} to "
        f"+{EXPOSURE_MONTHS} around each effective date; an open square is an M2 period (January + "
        "February together, placed at January)."
    )
    return fig, detail


def _unit_value_vs_price(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = _rows(
        con,
        """
        with priced as (
            select *,
                   bool_or(partner_iso3 = 'WLD') over (
                       partition by source, reporter_iso3, flow, freq, period_start, product_code
                   ) as has_world
            from mart_unit_value_vs_price
            where benchmark_usd_per_kg is not null and net_weight_kg > 0 and value_usd is not null
        )
        select source, reporter_iso3, flow, element, form, freq, period_start,
               sum(value_usd) / sum(net_weight_kg) as unit_value,
               sum(benchmark_usd_per_kg * net_weight_kg) / sum(net_weight_kg) as benchmark,
               sum(net_weight_kg) as kg,
               string_agg(distinct price_basis, ', ' order by price_basis) as bases
        from priced
        where (has_world and partner_iso3 = 'WLD') or (not has_world and partner_iso3 <> 'WLD')
        group by all
        order by source, reporter_iso3, flow, element, form, period_start
        """,
    )
    if not rows:
        raise NoData(
            "marts.mart_unit_value_vs_price has no line with both a declared mass and a benchmark "
            f"price; {WHAT_TO_LOAD['mart_unit_value_vs_price']}"
        )
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.62, 0.38],
        vertical_spacing=0.08,
        subplot_titles=[
            "USD per kg (log scale): customs unit value (solid) vs benchmark (dashed)",
            "premium of the customs unit value over the benchmark (%)",
        ],
    )
    keys = sorted({(r[0], r[1], r[2], r[3], r[4]) for r in rows}, key=lambda k: (k[3], k[4], k[0], k[2]))
    for i, key in enumerate(keys):
        source, reporter, flow, element, form = key
        part = [r for r in rows if (r[0], r[1], r[2], r[3], r[4]) == key]
        colour = _colour(i)
        name = f"{element} {form}, {reporter} {flow}s ({source})"
        hover = [
            f"{name}<br>{r[6]:%b %Y}{' (Jan+Feb)' if r[5] == 'M2' else ''}, {r[9]:,.0f} kg, basis {r[10]}"
            for r in part
        ]
        x = [r[6] for r in part]
        fig.add_scatter(
            x=x,
            y=[r[7] for r in part],
            name=name,
            legendgroup=name,
            mode="lines+markers",
            line={"color": colour, "width": 2},
            customdata=hover,
            hovertemplate="%{customdata}<br>unit value %{y:,.2f} USD/kg<extra></extra>",
            row=1,
            col=1,
        )
        fig.add_scatter(
            x=x,
            y=[r[8] for r in part],
            name=f"benchmark {element} {form}",
            legendgroup=name,
            showlegend=False,
            mode="lines",
            line={"color": colour, "width": 1.5, "dash": "dash"},
            customdata=hover,
            hovertemplate="%{customdata}<br>benchmark %{y:,.2f} USD/kg<extra></extra>",
            row=1,
            col=1,
        )
        fig.add_scatter(
            x=x,
            y=[100 * (r[7] / r[8] - 1) if r[8] else None for r in part],
            name=f"premium {name}",
            legendgroup=name,
            showlegend=False,
            mode="lines+markers",
            line={"color": colour, "width": 1.5},
            customdata=hover,
            hovertemplate="%{customdata}<br>premium %{y:+.1f} %<extra></extra>",
            row=2,
            col=1,
        )
    _layout(fig, 620)
    _month_axis(fig, [r[6] for r in rows])
    fig.update_yaxes(type="log", title_text="USD/kg", row=1, col=1)
    fig.update_yaxes(title_text="%", zeroline=True, zerolinecolor="#888", row=2, col=1)
    detail = (
        f"Rows: element-specific lines (source: {_values(r[0] for r in rows)}; reporters "
        f"{_values(r[1] for r in rows)}; flows {_values(r[2] for r in rows)}), partner WLD where declared "
        f"else the sum of countries, with a declared mass and a benchmark; mass-weighted over tariff lines. "
        "Benchmark: mean fct_prices.usd_per_kg_mid without VAT "
        f"(price_basis: {_values(r[10] for r in rows)}). "
        f"Period: {_period(r[6] for r in rows)} (freq {_values(r[5] for r in rows)})."
    )
    return fig, detail


def _status_words(statuses: str | None) -> str:
    """`status_as_of` (one status, or several comma-separated) in words; unknown codes kept as is."""
    if not statuses:
        return "not given"
    return "; ".join(STATUS_LABELS.get(code.strip(), code.strip()) for code in statuses.split(","))


def _expiry_words(state: str, days_until: int | None) -> str:
    if days_until is None:
        return state
    if state == "expired":
        return "ended today" if days_until == 0 else f"ended {-days_until} days ago"
    return f"ends in {days_until} days"


def _suspension_expiries(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = _rows(
        con,
        "select regime_id, elements, suspended_until, days_until, expiry_state, status_as_of, as_of_date "
        "from mart_upcoming_suspension_expiries order by suspended_until, regime_id",
    )
    if not rows:
        raise NoData(
            "marts.mart_upcoming_suspension_expiries has no rows: no export-control suspension ends "
            f"near the as-of date; {WHAT_TO_LOAD['mart_upcoming_suspension_expiries']}"
        )
    scopes: dict[str, str] = {}
    try:
        scopes = dict(
            _rows(con, "select regime_id, any_value(scope) from dim_export_control group by regime_id")
        )
    except duckdb.Error:
        pass
    as_of = {r[6] for r in rows if r[6] is not None}
    expired = [r for r in rows if r[4] == "expired"]
    header = ["regime", "elements", "suspended until", "expiry", "status on the as-of date", "scope"]
    cells = [
        [r[0] for r in rows],
        [r[1] or "none (not a rare-earth element)" for r in rows],
        [f"{r[2]:%Y-%m-%d}" if r[2] else "" for r in rows],
        [_expiry_words(r[4], r[3]) for r in rows],
        [_status_words(r[5]) for r in rows],
        [scopes.get(r[0]) or "" for r in rows],
    ]
    fills = ["#fdecea" if r[4] == "expired" else "#ffffff" for r in rows]
    fig = go.Figure(
        go.Table(
            columnwidth=[150, 110, 100, 120, 200, 330],
            header={"values": header, "fill_color": "#e8eef6", "align": "left", "font": {"size": 13}},
            cells={"values": cells, "align": "left", "height": 26, "fill_color": [fills] * len(header)},
        )
    )
    # cells wrap: give each row the lines its longest cell needs (about 50 characters a line in
    # the scope column, 28 in the status column), so the last row is not cut off
    lines = [
        max(2, -(-len(scope) // 50), -(-len(status) // 28))
        for scope, status in zip(cells[5], cells[4], strict=True)
    ]
    _layout(fig, 70 + sum(16 * n + 12 for n in lines))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10})
    detail = (
        f"Rows: every regime whose suspension ends within the window (dbt var "
        f"suspension_expiry_window_days) before or after the as-of date ({_values(as_of)}; the build "
        f"date unless the var as_of_date pins it, so rebuild to refresh): {len(expired)} expired "
        f"(shaded), {len(rows) - len(expired)} upcoming. After an expiry with no source on what "
        "followed the status is 'suspension expired; status after expiry unconfirmed', never "
        "'in force'. Scope from marts.dim_export_control. "
        f"Period: suspensions ending {_period(r[2] for r in rows)}."
    )
    return fig, detail


CHARTS: tuple[Chart, ...] = (
    Chart(
        "china_exports_by_stage",
        "China's exports by stage: rare earths (compounds + metals) vs magnets",
        "mart_china_exports_by_stage",
        ("period_start", "freq", "series", "stage", "partner_iso3", "source", "net_weight_kg", "world_basis"),
        "tonnes of net weight (net_weight_kg / 1,000)",
        _china_exports,
    ),
    Chart(
        "mirror_gap_chn_usa",
        "Mirror gap China → United States: declared exports vs imports",
        "mart_mirror_flows",
        (
            "exporter_iso3",
            "importer_iso3",
            "freq",
            "period_start",
            "export_value_usd",
            "import_value_usd",
            "value_gap_usd",
            "export_source",
            "import_source",
        ),
        "million USD (exports FOB, imports CIF or customs value)",
        _mirror_gap,
    ),
    Chart(
        "us_supplier_concentration",
        "US supplier concentration: HHI per HS6 and China's share",
        "mart_supplier_concentration",
        (
            "source",
            "importer_iso3",
            "hs6",
            "year",
            "year_basis",
            "hhi",
            "china_share",
            "supplier_count",
            "top1_partner_iso3",
        ),
        "HHI on 0–10,000; China share in % of import value",
        _supplier_concentration,
    ),
    Chart(
        "export_control_exposure",
        "Controlled elements around each control's effective date",
        "mart_export_control_exposure",
        (
            "regime_id",
            "element",
            "source",
            "reporter_iso3",
            "partner_iso3",
            "period_start",
            "freq",
            "effective_date",
            "months_from_effective",
            "element_kg",
        ),
        "tonnes of the element itself (element_kg / 1,000)",
        _export_control_exposure,
    ),
    Chart(
        "unit_value_vs_price",
        "Customs unit values vs benchmark prices",
        "mart_unit_value_vs_price",
        (
            "source",
            "reporter_iso3",
            "partner_iso3",
            "flow",
            "freq",
            "period_start",
            "product_code",
            "element",
            "form",
            "net_weight_kg",
            "value_usd",
            "price_basis",
            "benchmark_usd_per_kg",
        ),
        "USD per kg (log scale); premium in %",
        _unit_value_vs_price,
    ),
    Chart(
        "upcoming_suspension_expiries",
        "Export-control suspensions: recently expired and upcoming",
        "mart_upcoming_suspension_expiries",
        (
            "regime_id",
            "elements",
            "suspended_until",
            "days_until",
            "expiry_state",
            "status_as_of",
            "as_of_date",
        ),
        "dates; days from the as-of date (the build date unless pinned)",
        _suspension_expiries,
    ),
)


# ---------------------------------------------------------------------------------------------
# Reading the serving file


def _serving_info(con: duckdb.DuckDBPyConnection, path: Path) -> ServingInfo:
    published_at = None
    loads: list[tuple[str, int, datetime.datetime | None]] = []
    try:
        published_at = _rows(con, "select max(published_at) from audit.publish_info")[0][0]
    except duckdb.Error:
        pass
    try:
        loads = [
            (source, files, latest)
            for source, files, latest in _rows(
                con,
                "select source, count(*), max(loaded_at) from audit.load_log "
                "where status = 'landed' group by source order by source",
            )
        ]
    except duckdb.Error:
        pass
    return ServingInfo(path=path, published_at=published_at, loads=loads)


def _panel(con: duckdb.DuckDBPyConnection, chart: Chart) -> Panel:
    try:
        problem = _mart_problem(con, chart)
        if problem:
            return Panel(chart.key, chart.title, chart.base_caption(), no_data=problem)
        figure, detail = chart.build(con)
    except NoData as reason:
        return Panel(chart.key, chart.title, chart.base_caption(), no_data=str(reason))
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return Panel(
            chart.key,
            chart.title,
            chart.base_caption(),
            no_data=f"marts.{chart.mart} could not be read ({first_line}); align this chart with "
            f"dbt/models/marts/{chart.mart}.yml or republish with `make run`",
        )
    return Panel(chart.key, chart.title, f"{chart.base_caption()} {detail}", figure=figure)


def read_panels(serving_path: Path) -> tuple[ServingInfo, list[Panel]]:
    """Every chart's panel, from one short read-only connection to the serving file."""
    if not serving_path.is_file():
        reason = f"the serving file {serving_path} does not exist; publish it with `make run`"
        return ServingInfo(path=serving_path), [
            Panel(c.key, c.title, c.base_caption(), no_data=reason) for c in CHARTS
        ]
    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        # The marts live in schema `marts` (serving/publish.py): unqualified names resolve there.
        con.execute("set schema = 'marts'")
        info = _serving_info(con, serving_path)
        panels = [_panel(con, chart) for chart in CHARTS]
    finally:
        con.close()
    return info, panels


# ---------------------------------------------------------------------------------------------
# Rendering

_CSS = f"""
body {{ font-family: {FONT}; margin: 0; color: #1d2433; background: #f6f7f9; }}
header, main, footer {{ max-width: 1180px; margin: 0 auto; padding: 0 20px; }}
header {{ padding-top: 24px; }}
h1 {{ font-size: 1.6rem; margin: 0 0 6px; }}
h2 {{ font-size: 1.15rem; margin: 0 0 10px; }}
.meta {{ color: #4a5468; font-size: 0.9rem; margin: 2px 0; }}
nav ul {{ padding-left: 18px; margin: 10px 0 0; }}
section.chart {{ background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 16px 18px;
  margin: 18px 0; }}
.caption {{ color: #4a5468; font-size: 0.85rem; margin: 10px 0 0; line-height: 1.45; }}
.no-data {{ border: 1px dashed #b9c0cc; background: #fafbfc; color: #7a2e0e; padding: 28px 20px;
  border-radius: 4px; font-size: 0.95rem; }}
footer {{ color: #6b7385; font-size: 0.8rem; padding-bottom: 30px; }}
code {{ font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }}
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_html(info: ServingInfo, panels: Sequence[Panel], generated_at: datetime.datetime) -> str:
    """The whole page; plotly.js is inlined once, with the first figure."""
    sections = []
    plotly_included = False
    for panel in panels:
        if panel.figure is not None:
            body = panel.figure.to_html(
                full_html=False,
                include_plotlyjs=not plotly_included,
                div_id=f"chart-{panel.key}",
                config=PLOTLY_CONFIG,
            )
            plotly_included = True
        else:
            body = (
                f'<div class="no-data" role="status" data-chart="{_esc(panel.key)}">'
                f"<strong>no data:</strong> {_esc(panel.no_data)}</div>"
            )
        sections.append(
            f'<section class="chart" id="{_esc(panel.key)}">\n<h2>{_esc(panel.title)}</h2>\n{body}\n'
            f'<p class="caption">{_esc(panel.caption)}</p>\n</section>'
        )
    published = f"{info.published_at:%Y-%m-%d %H:%M} UTC" if info.published_at else "unknown"
    loads = "; ".join(
        f"{source}: {files} file{'s' if files != 1 else ''}"
        + (f", latest {latest:%Y-%m-%d %H:%M}" if latest else "")
        for source, files, latest in info.loads
    )
    toc = "".join(f'<li><a href="#{_esc(p.key)}">{_esc(p.title)}</a></li>' for p in panels)
    rendered = sum(1 for p in panels if p.figure is not None)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(PAGE_TITLE)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{_esc(PAGE_TITLE)}</h1>
<p class="meta">Generated {generated_at:%Y-%m-%d %H:%M} UTC from <code>{_esc(info.path)}</code>
(published {_esc(published)}); {rendered} of {len(panels)} charts have data.</p>
<p class="meta">Loads in audit.load_log: {_esc(loads or "none recorded")}.</p>
<nav><ul>{toc}</ul></nav>
</header>
<main>
{chr(10).join(sections)}
</main>
<footer><p>Figures are declared customs statistics and benchmark price assessments as published in the
serving file; see docs/bi.md for the marts and their columns. This page works offline.</p></footer>
</body>
</html>
"""


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then swap it in with os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.parent / f".{path.name}.{uuid.uuid4().hex}.partial"
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def build_report(
    serving_path: Path | None = None,
    output_path: Path | None = None,
    generated_at: datetime.datetime | None = None,
) -> ReportResult:
    """Read the serving file, render the page, write it atomically; say which charts had data."""
    settings = get_settings()
    serving_path = serving_path or settings.serving_path
    output_path = output_path or report_path(settings)
    generated_at = generated_at or datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    info, panels = read_panels(serving_path)
    write_atomic(output_path, render_html(info, panels, generated_at))
    return ReportResult(
        path=output_path,
        charts_rendered=[p.key for p in panels if p.figure is not None],
        charts_empty={p.key: p.no_data or "" for p in panels if p.figure is None},
    )
