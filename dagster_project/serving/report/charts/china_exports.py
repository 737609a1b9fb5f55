"""China's exports by stage: rare earths (compounds + metals) vs magnets, World rows, month by month."""

import duckdb
import plotly.graph_objects as go

from dagster_project.serving.report.common import (
    WHAT_TO_LOAD,
    Chart,
    NoData,
    colour,
    layout,
    month_slots,
    period_text,
    records,
    values_text,
)

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

QUERY = """
select period_start, freq, series, stage, sum(net_weight_kg) / 1000.0 as tonnes,
       string_agg(distinct source, ', ' order by source) as sources,
       string_agg(distinct world_basis, ', ' order by world_basis) as world_basis
from mart_china_exports_by_stage
where partner_iso3 = 'WLD' and series in ('rare_earths', 'magnets')
group by all
order by period_start, series, stage
"""


def build(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = records(con, QUERY)
    if not rows:
        raise NoData(
            "marts.mart_china_exports_by_stage has no World (WLD) rows in the series rare_earths or "
            f"magnets; {WHAT_TO_LOAD['mart_china_exports_by_stage']}"
        )
    slots = month_slots((r.period_start, r.freq) for r in rows)
    index = {month: i for i, (month, _) in enumerate(slots)}
    x = [label for _, label in slots]
    hover = [label + (" (M2: two months together)" if label.startswith("Jan+") else "") for label in x]
    fig = go.Figure()
    series_seen: list[str] = []
    for series in ("rare_earths", "magnets"):
        stages = sorted({r.stage for r in rows if r.series == series})
        base = [0.0] * len(slots)
        for stage in stages:
            values: list[float | None] = [None] * len(slots)
            for r in rows:
                if r.series == series and r.stage == stage:
                    slot = index[r.period_start]
                    values[slot] = (values[slot] or 0.0) + (r.tonnes or 0.0)
            fig.add_bar(
                x=x,
                y=values,
                base=list(base),
                offsetgroup=series,
                name=f"{SERIES_LABELS[series]}: {STAGE_LABELS.get(stage, stage)}",
                legendgroup=series,
                marker_color=STAGE_COLOURS.get((series, stage), colour(len(fig.data))),
                marker_pattern_shape=["/" if label.startswith("Jan+") else "" for label in x],
                customdata=hover,
                hovertemplate="%{customdata}<br>%{fullData.name}: %{y:,.1f} t<extra></extra>",
            )
            base = [b + (v or 0.0) for b, v in zip(base, values, strict=True)]
        if stages:
            series_seen.append(series)
    layout(fig, 460, barmode="group", bargap=0.15, yaxis_title="tonnes (net weight)")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x)
    sources = values_text(s for r in rows for s in (r.sources or "").split(", "))
    bases = values_text(b for r in rows for b in (r.world_basis or "").split(", ") if b)
    missing = [SERIES_LABELS[s].lower() for s in ("rare_earths", "magnets") if s not in series_seen]
    detail = (
        f"Rows: partner WLD (world_basis: {bases}); series {', '.join(series_seen)}; source: {sources} "
        "(one source per period: gacc when it has the period, else comtrade). "
        f"Period: {period_text(r.period_start for r in rows)}, monthly; a hatched 'Jan+Feb' bar is an "
        "M2 period, January and February together."
    )
    if missing:
        detail += (
            f" No {' or '.join(missing)} rows: Comtrade's HS 850511 also holds ferrite magnets and counts "
            "as other; the magnets series needs GACC line 8505111000."
        )
    return fig, detail


CHART = Chart(
    "china_exports_by_stage",
    "China's exports by stage: rare earths (compounds + metals) vs magnets",
    "mart_china_exports_by_stage",
    ("period_start", "freq", "series", "stage", "partner_iso3", "source", "net_weight_kg", "world_basis"),
    "tonnes of net weight (net_weight_kg / 1,000)",
    build,
)
