"""The mirror gap China → United States: China's declared exports against US declared imports."""

from typing import Any

import duckdb
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dagster_project.serving.report.common import (
    FREQ_GROUPS,
    WHAT_TO_LOAD,
    Chart,
    NoData,
    layout,
    month_slots,
    period_text,
    records,
    scalar,
    values_text,
)

QUERY = """
select freq, period_start,
       sum(export_value_usd) / 1e6 as export_musd,
       sum(import_value_usd) / 1e6 as import_musd,
       sum(value_gap_usd) / 1e6 as gap_musd,
       count(*) as hs6_lines,
       string_agg(distinct export_source, ', ' order by export_source) as export_sources,
       string_agg(distinct import_source, ', ' order by import_source) as import_sources
from mart_mirror_flows
where exporter_iso3 = 'CHN' and importer_iso3 = 'USA'
  and export_value_usd is not null and import_value_usd is not null
group by all
order by freq, period_start
"""
ONE_SIDED = (
    "select count(*) from mart_mirror_flows where exporter_iso3 = 'CHN' and importer_iso3 = 'USA' "
    "and (export_value_usd is null or import_value_usd is null)"
)


def build(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = records(con, QUERY)
    one_sided = scalar(con, ONE_SIDED)
    if not rows:
        raise NoData(
            "marts.mart_mirror_flows has no China→US row where both sides declared a value "
            f"({one_sided} one-sided rows); {WHAT_TO_LOAD['mart_mirror_flows']}"
        )
    groups = [g for g in ("Annual", "Monthly") if any(FREQ_GROUPS.get(r.freq) == g for r in rows)]
    fig = make_subplots(
        rows=len(groups), cols=1, subplot_titles=[f"{g} periods" for g in groups], vertical_spacing=0.16
    )
    for row, group in enumerate(groups, start=1):
        part = [r for r in rows if FREQ_GROUPS.get(r.freq) == group]
        if group == "Annual":
            x: list[Any] = [r.period_start.year for r in part]
            values = [(r.export_musd, r.import_musd, r.gap_musd) for r in part]
        else:  # monthly bars on a category axis of every month, gaps included
            slots = month_slots((r.period_start, r.freq) for r in part)
            by_month = {r.period_start: (r.export_musd, r.import_musd, r.gap_musd) for r in part}
            x = [label for _, label in slots]
            values = [by_month.get(month, (None, None, None)) for month, _ in slots]
        hover = [f"{v}" for v in x]
        first = row == 1
        for name, column, bar_colour in (
            ("China's declared exports (FOB)", 0, "#1f77b4"),
            ("US declared imports (CIF / customs value)", 1, "#ff7f0e"),
        ):
            fig.add_bar(
                x=x,
                y=[v[column] for v in values],
                name=name,
                legendgroup=name,
                showlegend=first,
                marker_color=bar_colour,
                customdata=hover,
                hovertemplate="%{customdata}<br>" + name + ": %{y:,.2f} M USD<extra></extra>",
                row=row,
                col=1,
            )
        fig.add_scatter(
            x=x,
            y=[v[2] for v in values],
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
    layout(fig, 330 * len(groups) + 80, barmode="group")
    detail = (
        f"Rows: exporter CHN, importer USA, HS6 lines where both sides declared a value ({one_sided} "
        "one-sided rows left out), summed over HS6; "
        f"export_source: {values_text(r.export_sources for r in rows)}; "
        f"import_source: {values_text(r.import_sources for r in rows)}. Period: "
        f"{period_text(r.period_start for r in rows)} (freq {values_text(r.freq for r in rows)}; annual and "
        "monthly are never added). A gap around +5 to +10 % of exports is freight and insurance; far "
        "from it signals misreporting or timing."
    )
    return fig, detail


CHART = Chart(
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
    build,
)
