"""Customs unit values (value / kg) of element-specific lines against benchmark prices."""

import duckdb
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dagster_project.serving.report.common import (
    WHAT_TO_LOAD,
    Chart,
    NoData,
    colour,
    layout,
    month_axis,
    period_text,
    records,
    values_text,
    world_text,
)

QUERY = """
select source, reporter_iso3, flow, element, form, freq, period_start, world_basis, price_bases,
       net_weight_kg, unit_value_usd_per_kg, benchmark_usd_per_kg
from rpt_unit_value_vs_price
order by source, reporter_iso3, flow, element, form, period_start
"""


def build(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = records(con, QUERY)
    if not rows:
        raise NoData(
            "marts.rpt_unit_value_vs_price has no line with both a declared mass and a benchmark "
            f"price; {WHAT_TO_LOAD['rpt_unit_value_vs_price']}"
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
    keys = sorted(
        {(r.source, r.reporter_iso3, r.flow, r.element, r.form) for r in rows},
        key=lambda k: (k[3], k[4], k[0], k[2]),
    )
    for i, key in enumerate(keys):
        source, reporter, flow, element, form = key
        part = [r for r in rows if (r.source, r.reporter_iso3, r.flow, r.element, r.form) == key]
        line_colour = colour(i)
        name = f"{element} {form}, {reporter} {flow}s ({source})"
        hover = [
            f"{name}<br>{r.period_start:%b %Y}{' (Jan+Feb)' if r.freq == 'M2' else ''}, "
            f"{r.net_weight_kg:,.0f} kg, basis {r.price_bases}"
            for r in part
        ]
        x = [r.period_start for r in part]
        fig.add_scatter(
            x=x,
            y=[r.unit_value_usd_per_kg for r in part],
            name=name,
            legendgroup=name,
            mode="lines+markers",
            line={"color": line_colour, "width": 2},
            customdata=hover,
            hovertemplate="%{customdata}<br>unit value %{y:,.2f} USD/kg<extra></extra>",
            row=1,
            col=1,
        )
        fig.add_scatter(
            x=x,
            y=[r.benchmark_usd_per_kg for r in part],
            name=f"benchmark {element} {form}",
            legendgroup=name,
            showlegend=False,
            mode="lines",
            line={"color": line_colour, "width": 1.5, "dash": "dash"},
            customdata=hover,
            hovertemplate="%{customdata}<br>benchmark %{y:,.2f} USD/kg<extra></extra>",
            row=1,
            col=1,
        )
        fig.add_scatter(
            x=x,
            y=[
                100 * (r.unit_value_usd_per_kg / r.benchmark_usd_per_kg - 1)
                if r.benchmark_usd_per_kg
                else None
                for r in part
            ],
            name=f"premium {name}",
            legendgroup=name,
            showlegend=False,
            mode="lines+markers",
            line={"color": line_colour, "width": 1.5},
            customdata=hover,
            hovertemplate="%{customdata}<br>premium %{y:+.1f} %<extra></extra>",
            row=2,
            col=1,
        )
    layout(fig, 620)
    month_axis(fig, [r.period_start for r in rows])
    fig.update_yaxes(type="log", title_text="USD/kg", row=1, col=1)
    fig.update_yaxes(title_text="%", zeroline=True, zerolinecolor="#888", row=2, col=1)
    detail = (
        f"Rows: element-specific lines (source: {values_text(r.source for r in rows)}; reporters "
        f"{values_text(r.reporter_iso3 for r in rows)}; flows {values_text(r.flow for r in rows)}), partner "
        f"{world_text(r.world_basis for r in rows)}, with a declared mass and a benchmark; mass-weighted "
        "over tariff lines. Benchmark: mean fct_prices.usd_per_kg_mid without VAT "
        f"(price_basis: {values_text(r.price_bases for r in rows)}). "
        f"Period: {period_text(r.period_start for r in rows)} (freq {values_text(r.freq for r in rows)})."
    )
    return fig, detail


CHART = Chart(
    "unit_value_vs_price",
    "Customs unit values vs benchmark prices",
    "rpt_unit_value_vs_price",
    (
        "source",
        "reporter_iso3",
        "flow",
        "element",
        "form",
        "freq",
        "period_start",
        "world_basis",
        "price_bases",
        "net_weight_kg",
        "unit_value_usd_per_kg",
        "benchmark_usd_per_kg",
    ),
    "USD per kg (log scale); premium in %",
    build,
)
