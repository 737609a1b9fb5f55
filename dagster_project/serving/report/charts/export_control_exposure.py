"""Controlled elements around each export control's effective date (months −12 to +12)."""

import duckdb
import plotly.graph_objects as go

from dagster_project.serving.report.common import (
    WHAT_TO_LOAD,
    Chart,
    NoData,
    colour,
    layout,
    period_text,
    records,
    values_text,
    world_text,
)

EXPOSURE_MONTHS = 12  # months either side of an effective date shown on the chart

QUERY = """
select regime_id, element, source, reporter_iso3, period_start, freq, effective_date,
       months_from_effective, world_basis, element_kg / 1000.0 as tonnes
from rpt_export_control_exposure
where months_from_effective between ? and ?
order by regime_id, element, source, reporter_iso3, months_from_effective
"""


def build(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = records(con, QUERY, [-EXPOSURE_MONTHS, EXPOSURE_MONTHS])
    if not rows:
        raise NoData(
            f"marts.rpt_export_control_exposure has no flows within {EXPOSURE_MONTHS} months of an "
            f"effective date; {WHAT_TO_LOAD['rpt_export_control_exposure']}"
        )
    fig = go.Figure()
    fig.add_vrect(x0=-6.5, x1=-0.5, fillcolor="#bbbbbb", opacity=0.15, line_width=0, layer="below")
    fig.add_vrect(x0=-0.5, x1=5.5, fillcolor="#d62728", opacity=0.07, line_width=0, layer="below")
    fig.add_vline(x=0, line_dash="dash", line_color="#444", annotation_text="effective month")
    keys = sorted({(r.element, r.regime_id, r.source, r.reporter_iso3) for r in rows})
    for i, key in enumerate(keys):
        element, regime, source, reporter = key
        part = [r for r in rows if (r.element, r.regime_id, r.source, r.reporter_iso3) == key]
        name = f"{element} · {regime} ({reporter}, {source})"
        hover = [
            f"{name}<br>effective {r.effective_date:%Y-%m-%d}, month {r.months_from_effective:+d}"
            + (" (Jan+Feb: two months together)" if r.freq == "M2" else "")
            for r in part
        ]
        fig.add_scatter(
            x=[r.months_from_effective for r in part],
            y=[r.tonnes for r in part],
            name=name,
            mode="lines+markers",
            line={"color": colour(i), "width": 2},
            marker={
                "symbol": ["square-open" if r.freq == "M2" else "circle" for r in part],
                "size": [11 if r.freq == "M2" else 7 for r in part],
            },
            customdata=hover,
            hovertemplate="%{customdata}<br>%{y:,.3f} t of element<extra></extra>",
        )
    layout(fig, 460, x_title=True, xaxis_title="months from the control's effective month (0 = effective)")
    fig.update_xaxes(dtick=1, zeroline=False)
    fig.update_yaxes(title_text="tonnes of element (export)")
    detail = (
        f"Rows: {world_text(r.world_basis for r in rows)}; regimes {values_text(r.regime_id for r in rows)}; "
        "reporters "
        f"{values_text(r.reporter_iso3 for r in rows)}; source: {values_text(r.source for r in rows)} "
        "(sources side by side, never added); allocation exact or assumed_composition. Shaded: before "
        "window (months −6 to −1) and after window (0 to 5). "
        f"Period: {period_text(r.period_start for r in rows)}, months "
        f"−{EXPOSURE_MONTHS} to +{EXPOSURE_MONTHS} around each effective date; an open square is an M2 "
        "period (January + February together, placed at January)."
    )
    return fig, detail


CHART = Chart(
    "export_control_exposure",
    "Controlled elements around each control's effective date",
    "rpt_export_control_exposure",
    (
        "regime_id",
        "element",
        "source",
        "reporter_iso3",
        "period_start",
        "freq",
        "effective_date",
        "months_from_effective",
        "world_basis",
        "element_kg",
    ),
    "tonnes of the element itself (element_kg / 1,000)",
    build,
)
