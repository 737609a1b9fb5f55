"""US supplier concentration: HHI per HS6 and China's share of the import value, year by year."""

import duckdb
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dagster_project.serving.report.common import (
    WHAT_TO_LOAD,
    Chart,
    NoData,
    colour,
    layout,
    records,
    values_text,
    years_text,
)

QUERY = """
select source, hs6, year, year_basis, hhi, china_share, supplier_count, top1_partner_iso3
from mart_supplier_concentration
where importer_iso3 = 'USA'
order by source, hs6, year
"""
HS6_LABELS = (
    "select hs6, any_value(description order by source) as description from dim_product "
    "where product_code = hs6 group by hs6"
)


def _hs6_labels(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    try:
        rows = records(con, HS6_LABELS)
    except duckdb.Error:
        return {}
    return {r.hs6: (r.description or "") for r in rows}


def build(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = records(con, QUERY)
    if not rows:
        raise NoData(
            "marts.mart_supplier_concentration has no row for importer USA; "
            f"{WHAT_TO_LOAD['mart_supplier_concentration']}"
        )
    labels = _hs6_labels(con)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    lines = sorted({(r.source, r.hs6) for r in rows}, key=lambda k: (k[1], k[0]))
    for i, (source, hs6) in enumerate(lines):
        part = [r for r in rows if (r.source, r.hs6) == (source, hs6)]
        line_colour = colour(i)
        name = f"{hs6} ({source})"
        hover = [
            f"{hs6} {labels.get(hs6, '')[:60]}<br>{r.year} ({r.year_basis}), {r.supplier_count} suppliers, "
            f"largest {r.top1_partner_iso3}"
            for r in part
        ]
        fig.add_scatter(
            x=[r.year for r in part],
            y=[r.hhi for r in part],
            name=f"HHI {name}",
            legendgroup=name,
            mode="lines+markers",
            line={"color": line_colour, "width": 2},
            customdata=hover,
            hovertemplate="%{customdata}<br>HHI %{y:,.0f}<extra></extra>",
            secondary_y=False,
        )
        fig.add_scatter(
            x=[r.year for r in part],
            y=[100 * r.china_share if r.china_share is not None else None for r in part],
            name=f"China share {name}",
            legendgroup=name,
            mode="lines+markers",
            line={"color": line_colour, "width": 1.5, "dash": "dot"},
            marker={"symbol": "diamond"},
            customdata=hover,
            hovertemplate="%{customdata}<br>China share %{y:.1f} %<extra></extra>",
            secondary_y=True,
        )
    layout(fig, 460)
    fig.update_xaxes(dtick=1, tickformat="d")
    fig.update_yaxes(title_text="HHI (0–10,000), solid", range=[0, 10_000], secondary_y=False)
    fig.update_yaxes(title_text="China share of value (%), dotted", range=[0, 100], secondary_y=True)
    detail = (
        f"Rows: importer USA, one line per HS6 and source (source: {values_text(r.source for r in rows)}; "
        f"year_basis: {values_text(r.year_basis for r in rows)}; sources are never added). HHI from value "
        f"shares of partner countries (World and areas excluded). Period: {years_text(r.year for r in rows)}."
    )
    return fig, detail


CHART = Chart(
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
    build,
)
