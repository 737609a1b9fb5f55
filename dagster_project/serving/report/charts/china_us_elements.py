"""China's exports to the US against US imports from China, by element (Dy, Tb, NdPr), month by
month, with the reconciled estimate (issue 15: "China's exports rose; did US imports follow?")."""

import duckdb
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dagster_project.serving.report.common import (
    WHAT_TO_LOAD,
    Chart,
    NoData,
    layout,
    month_slots,
    period_text,
    records,
    values_text,
)

ELEMENT_GROUPS = ("Dy", "Tb", "NdPr")
ELEMENT_NAMES = {"Dy": "Dysprosium (Dy)", "Tb": "Terbium (Tb)", "NdPr": "Neodymium + praseodymium (NdPr)"}

QUERY = """
select element_group, freq, period_start, china_export_element_kg, us_import_element_kg,
       us_import_element_kg_exporter_lines, reconciled_element_kg
from mart_china_us_element_flows
where element_group in ('Dy', 'Tb', 'NdPr')
order by element_group, period_start
"""


def build(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = records(con, QUERY)
    if not rows:
        raise NoData(
            "marts.mart_china_us_element_flows has no Dy, Tb or NdPr row; "
            f"{WHAT_TO_LOAD['mart_china_us_element_flows']}"
        )
    groups = [g for g in ELEMENT_GROUPS if any(r.element_group == g for r in rows)]
    # one month axis for every element, gaps included, so the panels line up
    slots = month_slots({(r.period_start, r.freq) for r in rows})
    x = [label for _, label in slots]
    fig = make_subplots(
        rows=len(groups),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=[ELEMENT_NAMES[g] for g in groups],
    )
    for row, group in enumerate(groups, start=1):
        by_month = {r.period_start: r for r in rows if r.element_group == group}
        part = [by_month.get(month) for month, _ in slots]
        first = row == 1
        hover = [
            f"{ELEMENT_NAMES[group]}, {label}"
            + (" (M2: two months together)" if label.startswith("Jan+") else "")
            + (
                f"<br>of the US figure, {r.us_import_element_kg_exporter_lines:,.1f} kg split by "
                "China's lines"
                if r is not None and r.us_import_element_kg_exporter_lines
                else ""
            )
            for (_, label), r in zip(slots, part, strict=True)
        ]
        for name, column, bar_colour in (
            ("China's declared exports to the US", "china_export_element_kg", "#1f77b4"),
            ("US declared imports from China", "us_import_element_kg", "#ff7f0e"),
        ):
            fig.add_bar(
                x=x,
                y=[getattr(r, column) if r is not None else None for r in part],
                name=name,
                legendgroup=name,
                showlegend=first,
                marker_color=bar_colour,
                marker_pattern_shape=["/" if label.startswith("Jan+") else "" for label in x],
                customdata=hover,
                hovertemplate="%{customdata}<br>" + name + ": %{y:,.1f} kg<extra></extra>",
                row=row,
                col=1,
            )
        fig.add_scatter(
            x=x,
            y=[r.reconciled_element_kg if r is not None else None for r in part],
            name="reconciled estimate",
            legendgroup="reconciled",
            showlegend=first,
            mode="lines+markers",
            connectgaps=False,
            line={"color": "#2ca02c", "width": 2},
            marker={"size": 8, "symbol": "diamond"},
            customdata=hover,
            hovertemplate="%{customdata}<br>reconciled estimate: %{y:,.1f} kg<extra></extra>",
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="kg of element", rangemode="tozero", row=row, col=1)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x)
    layout(fig, 240 * len(groups) + 120, barmode="group", bargap=0.2)
    split = sum(r.us_import_element_kg_exporter_lines or 0.0 for r in rows)
    us_total = sum(r.us_import_element_kg or 0.0 for r in rows)
    share = f"{100 * split / us_total:.0f} %" if us_total else "none"
    detail = (
        f"Rows: China's exports to the US (gacc where it has the month, else comtrade) against US "
        f"imports from China (census, else comtrade), elements {', '.join(groups)} (NdPr = Nd + Pr); "
        f"US element kg from exact lines, magnet compositions and mixed HS6 lines split in the "
        f"proportions of China's own 10-digit lines for the US (allocation exporter_lines: {share} "
        "of the US kg shown). Reconciled estimate: fct_reconciled_flows (BACI method) per HS6 times "
        "the element's share of the declared kg. "
        f"Period: {period_text(r.period_start for r in rows)} (freq {values_text(r.freq for r in rows)}); "
        "a hatched 'Jan+Feb' bar is China's M2 period, the US January and February summed into it."
    )
    return fig, detail


CHART = Chart(
    "china_us_elements",
    "China's exports to the US vs US imports from China, by element",
    "mart_china_us_element_flows",
    (
        "element_group",
        "freq",
        "period_start",
        "china_export_element_kg",
        "us_import_element_kg",
        "us_import_element_kg_exporter_lines",
        "reconciled_element_kg",
    ),
    "kg of the element itself (Dy, Tb, Nd + Pr)",
    build,
)
