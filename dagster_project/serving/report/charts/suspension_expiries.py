"""Export-control suspensions that recently expired or are about to: a table."""

import duckdb
import plotly.graph_objects as go

from dagster_project.serving.report.common import (
    WHAT_TO_LOAD,
    Chart,
    NoData,
    layout,
    period_text,
    records,
    values_text,
)

# Export-control statuses in words (dim_export_control_status.status_label says the same).
STATUS_LABELS = {
    "not_yet_announced": "not yet announced",
    "announced_not_effective": "announced, not yet in effect",
    "in_force": "in force",
    "suspended": "suspended",
    "expired_status_unconfirmed": "suspension expired; status after expiry unconfirmed",
}

QUERY = (
    "select regime_id, elements, suspended_until, days_until, expiry_state, status_as_of, as_of_date "
    "from mart_upcoming_suspension_expiries order by suspended_until, regime_id"
)
SCOPES = "select regime_id, any_value(scope) as scope from dim_export_control group by regime_id"


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


def build(con: duckdb.DuckDBPyConnection) -> tuple[go.Figure, str]:
    rows = records(con, QUERY)
    if not rows:
        raise NoData(
            "marts.mart_upcoming_suspension_expiries has no rows: no export-control suspension ends "
            f"near the as-of date; {WHAT_TO_LOAD['mart_upcoming_suspension_expiries']}"
        )
    scopes: dict[str, str] = {}
    try:
        scopes = {r.regime_id: r.scope for r in records(con, SCOPES)}
    except duckdb.Error:
        pass
    as_of = {r.as_of_date for r in rows if r.as_of_date is not None}
    expired = [r for r in rows if r.expiry_state == "expired"]
    header = ["regime", "elements", "suspended until", "expiry", "status on the as-of date", "scope"]
    cells = [
        [r.regime_id for r in rows],
        [r.elements or "none (not a rare-earth element)" for r in rows],
        [f"{r.suspended_until:%Y-%m-%d}" if r.suspended_until else "" for r in rows],
        [_expiry_words(r.expiry_state, r.days_until) for r in rows],
        [_status_words(r.status_as_of) for r in rows],
        [scopes.get(r.regime_id) or "" for r in rows],
    ]
    fills = ["#fdecea" if r.expiry_state == "expired" else "#ffffff" for r in rows]
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
    layout(fig, 70 + sum(16 * n + 12 for n in lines))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10})
    detail = (
        f"Rows: every regime whose suspension ends within the window (dbt var "
        f"suspension_expiry_window_days) before or after the as-of date ({values_text(as_of)}; the build "
        f"date unless the var as_of_date pins it, so rebuild to refresh): {len(expired)} expired "
        f"(shaded), {len(rows) - len(expired)} upcoming. After an expiry with no source on what "
        "followed the status is 'suspension expired; status after expiry unconfirmed', never "
        "'in force'. Scope from marts.dim_export_control. "
        f"Period: suspensions ending {period_text(r.suspended_until for r in rows)}."
    )
    return fig, detail


CHART = Chart(
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
    build,
)
