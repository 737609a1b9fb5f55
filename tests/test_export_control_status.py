"""Export-control status over time (seed export_control_status, dim_export_control_status,
dim_export_control, mart_upcoming_suspension_expiries) read on pinned as-of dates.

The seed is checked as a file (every row sourced, a clean history per regime and element); then
dbt builds the seeds and those models into a temporary DuckDB file with `--vars as_of_date`
at 2025-06-01, 2026-01-10, 2026-11-15 and 2026-12-03, and the report is rendered from the
2026-12-03 mart. Only reference seeds are built: no lake is needed.
"""

import csv
import datetime
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict

import duckdb
import pytest
from conftest import REPO
from test_report import _insert, make_serving_file

from dagster_project.serving.report import build_report

SEEDS = REPO / "dbt" / "seeds"
STATUSES = {"announced_not_effective", "in_force", "suspended", "expired_status_unconfirmed"}
MODELS = (
    "export_controls export_control_status elements dim_export_control dim_export_control_status "
    "mart_upcoming_suspension_expiries assert_export_control_status_intervals"
).split()
AS_OF_MODELS = ["dim_export_control_status", "dim_export_control", "mart_upcoming_suspension_expiries"]
d = datetime.date


def _csv(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _histories() -> dict[tuple[str, str], list[dict[str, str]]]:
    histories: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in _csv("export_control_status.csv"):
        histories[(row["regime_id"], row["element"])].append(row)
    return {key: sorted(rows, key=lambda r: r["valid_from"]) for key, rows in histories.items()}


def test_every_status_row_is_sourced_and_in_the_vocabulary():
    rows = _csv("export_control_status.csv")
    assert len(rows) == 49
    for row in rows:
        where = f"export_control_status.csv {row['regime_id']}|{row['element']}|{row['valid_from']}"
        assert row["source_note"].strip(), f"{where}: no source"
        assert row["status_note"].strip(), f"{where}: no status note"
        assert row["status"] in STATUSES, f"{where}: status {row['status']!r}"


def test_each_history_starts_at_the_announcement_and_has_no_gap_or_overlap():
    controls = {(r["regime_id"], r["element"]): r for r in _csv("export_controls.csv")}
    histories = _histories()
    assert set(histories) == set(controls), "every regime and element has a status history, and only those"
    for key, rows in histories.items():
        assert rows[0]["valid_from"] == controls[key]["announced_date"], key
        for this, following in zip(rows, rows[1:], strict=False):
            assert this["valid_to"] == following["valid_from"], f"{key}: gap or overlap at {this['valid_to']}"
        assert rows[-1]["valid_to"] == "", f"{key}: the last status must stay open (what follows is unstated)"


def test_no_status_is_assumed_after_a_suspension_ends():
    """After each suspension ends, the sources found say nothing (updates-2026.md section 0): the
    next status is expired_status_unconfirmed, never in_force or an extension."""
    ends = {}
    for key, rows in _histories().items():
        for this, following in zip(rows, rows[1:], strict=False):
            if this["status"] == "suspended":
                assert following["status"] == "expired_status_unconfirmed", key
                ends[key[0]] = this["valid_to"]
    assert ends == {
        "mofcom-2025-57": "2026-11-10",
        "mofcom-2025-61": "2026-11-10",
        "mofcom-2025-62": "2026-11-10",
        "mofcom-2024-46": "2026-11-27",
    }


def test_2026_measures_are_in_the_seeds():
    controls = {r["regime_id"]: r for r in _csv("export_controls.csv")}
    japan = controls["mofcom-2026-1"]
    assert (japan["announced_date"], japan["effective_date"]) == ("2026-01-06", "2026-01-06")
    assert japan["element"] == "REE"
    assert "Japanese military" in japan["scope"]
    assert controls["mofcom-2026-11"]["announced_date"] == "2026-02-24"
    assert controls["mofcom-2026-12"]["announced_date"] == "2026-02-24"
    assert controls["mofcom-2026-eu-entities"]["announced_date"] == "2026-04-24"
    us = controls["mofcom-2026-us-entities"]
    assert us["announced_date"] == "2026-06-22" and "MP Materials" in us["scope"]
    assert controls["mofcom-2024-46-art1"]["status_note"].startswith("in force")
    for regime_id in ("mofcom-2026-1", "mofcom-2026-11", "mofcom-2026-12", "mofcom-2026-eu-entities",
                      "mofcom-2026-us-entities"):  # fmt: skip
        assert "updates-2026.md" in controls[regime_id]["source_note"], regime_id


# Runs in a child interpreter (dbt's in-process state stays out of pytest): one parse, then the
# models at each as-of date on the parsed manifest (a changed --vars on the command line would
# make dbt parse the whole project again: about 10 s a date). Prints JSON.
RUNNER = r"""
import json, sys
from dbt.cli.main import dbtRunner

project, target, dates = sys.argv[1], sys.argv[2], sys.argv[3:]
common = ["--project-dir", project, "--profiles-dir", project, "--target-path", target, "--log-path", target,
          "--quiet"]
parsed = dbtRunner().invoke(["parse", *common])
if not parsed.success:
    sys.exit(f"dbt parse failed: {parsed.exception}")
runner = dbtRunner(manifest=parsed.result)
QUERIES = {
    "status": "select regime_id, coalesce(element, '') as element, status_as_of, status_valid_from, "
              "status_valid_to, status_source_note, as_of_date from marts.dim_export_control",
    "expiries": "select regime_id, elements, suspended_until, days_until, expiry_state, days_since_expiry, "
                "status_as_of, as_of_date from marts.mart_upcoming_suspension_expiries order by regime_id",
    "holding": "select regime_element_id, count(*) as n from marts.dim_export_control_status "
               "where holds_on_as_of_date group by 1 having count(*) > 1",
}

def failures(result):
    return [str(r.message) for r in (result.result or []) if str(r.status) in ("error", "fail")]

out = {}
first = runner.invoke(["build", "--select", *MODELS, "--indirect-selection", "cautious",
                       "--vars", "{as_of_date: '2026-12-03'}", *common])
out["build"] = {"success": first.success, "failures": failures(first)}
for as_of in dates:
    done = runner.invoke(["run", "--select", *AS_OF_MODELS, "--vars", "{as_of_date: '%s'}" % as_of, *common])
    if not done.success:
        sys.exit(f"dbt run at {as_of} failed: {failures(done) or done.exception}")
    out[as_of] = {}
    for name, sql in QUERIES.items():
        shown = runner.invoke(["show", "--inline", sql, "--limit", "1000", *common])
        if not shown.success:
            sys.exit(f"dbt show failed: {shown.exception}")
        out[as_of][name] = [[None if v is None else str(v) for v in row]
                            for row in shown.result.results[0].agate_table.rows]
bad = runner.invoke(["run", "--select", "dim_export_control_status", "--vars", "{as_of_date: '3 Dec 2026'}",
                     *common])
out["bad var"] = {"success": bad.success, "failures": failures(bad)}
print("JSON" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("controls")
    env = {
        **os.environ,
        "REE_DATA_DIR": str(root),
        "REE_LAKE_DIR": str(root / "lake"),
        "REE_WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    script = f"MODELS = {MODELS!r}\nAS_OF_MODELS = {AS_OF_MODELS!r}\n" + RUNNER
    dates = ["2025-06-01", "2026-01-10", "2026-11-15", "2026-12-03"]
    done = subprocess.run(
        [sys.executable, "-c", script, str(REPO / "dbt"), str(root / "target"), *dates],
        cwd=REPO / "dbt", env=env, capture_output=True, text=True,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("JSON")]
    assert done.returncode == 0 and lines, f"dbt runner failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    results = json.loads(lines[-1][4:])
    results["root"] = root
    assert results["build"]["success"], results["build"]["failures"]
    for as_of in dates:  # back to Python types
        result = results[as_of]
        result["status"] = [
            (r[0], r[1], r[2], _date(r[3]), _date(r[4]), r[5], _date(r[6])) for r in result["status"]
        ]
        result["expiries"] = [
            (r[0], r[1], _date(r[2]), int(r[3]), r[4], None if r[5] is None else int(r[5]), r[6], _date(r[7]))
            for r in result["expiries"]
        ]
    return results


def _date(value: str | None) -> datetime.date | None:
    return None if value is None else datetime.date.fromisoformat(value[:10])


def _status(result: dict[str, list[tuple]]) -> dict[tuple[str, str], str]:
    return {(regime, element): status for regime, element, status, *_ in result["status"]}


def test_one_status_per_regime_and_element_on_each_date(built):
    for as_of in ("2025-06-01", "2026-01-10", "2026-11-15", "2026-12-03"):
        result = built[as_of]
        assert result["holding"] == [], f"{as_of}: more than one interval holds"
        assert {row[6] for row in result["status"]} == {datetime.date.fromisoformat(as_of)}
        assert len(result["status"]) == 24  # rows of export_controls.csv
        for regime, element, status, valid_from, _, source, _ in result["status"]:
            if status == "not_yet_announced":
                assert valid_from is None and source is None
            else:
                assert source, f"{as_of} {regime}|{element}: status without a source"


def test_as_of_2025_06_01(built):
    status = _status(built["2025-06-01"])
    assert status[("mofcom-gacc-2025-18", "Dy")] == "in_force"
    assert status[("mofcom-2024-46", "")] == "in_force"
    assert status[("mofcom-2025-57", "Ho")] == "not_yet_announced"
    assert status[("mofcom-2025-61", "REE")] == "not_yet_announced"
    assert status[("mofcom-2026-1", "REE")] == "not_yet_announced"
    # nothing was suspended yet, and the suspensions' ends (2026-11) lie beyond the 365-day window
    assert built["2025-06-01"]["expiries"] == []


def test_as_of_2026_01_10(built):
    result = built["2026-01-10"]
    status = _status(result)
    assert {status[("mofcom-2025-57", e)] for e in ("Ho", "Er", "Tm", "Eu", "Yb")} == {"suspended"}
    assert status[("mofcom-2025-61", "REE")] == status[("mofcom-2025-62", "REE")] == "suspended"
    assert status[("mofcom-2024-46", "")] == "suspended"
    assert status[("mofcom-2024-46-art1", "")] == "in_force"
    assert status[("mofcom-2026-1", "REE")] == "in_force"  # Ann. 1/2026, from 2026-01-06
    assert status[("mofcom-2026-11", "")] == "not_yet_announced"
    assert status[("mofcom-gacc-2025-18", "Tb")] == "in_force"
    as_of = d(2026, 1, 10)
    assert result["expiries"] == [
        ("mofcom-2024-46", None, d(2026, 11, 27), 321, "upcoming", None, "suspended", as_of),
        ("mofcom-2025-57", "Er, Eu, Ho, Tm, Yb", d(2026, 11, 10), 304, "upcoming", None, "suspended", as_of),
        ("mofcom-2025-61", "REE", d(2026, 11, 10), 304, "upcoming", None, "suspended", as_of),
        ("mofcom-2025-62", "REE", d(2026, 11, 10), 304, "upcoming", None, "suspended", as_of),
    ]


def test_as_of_2026_11_15_one_suspension_expired_one_still_running(built):
    result = built["2026-11-15"]
    status = _status(result)
    assert status[("mofcom-2025-57", "Ho")] == "expired_status_unconfirmed"
    assert status[("mofcom-2025-62", "REE")] == "expired_status_unconfirmed"
    assert status[("mofcom-2024-46", "")] == "suspended"
    assert status[("mofcom-2026-us-entities", "")] == "in_force"
    as_of = d(2026, 11, 15)
    unconfirmed = "expired_status_unconfirmed"
    assert result["expiries"] == [
        ("mofcom-2024-46", None, d(2026, 11, 27), 12, "upcoming", None, "suspended", as_of),
        ("mofcom-2025-57", "Er, Eu, Ho, Tm, Yb", d(2026, 11, 10), -5, "expired", 5, unconfirmed, as_of),
        ("mofcom-2025-61", "REE", d(2026, 11, 10), -5, "expired", 5, unconfirmed, as_of),
        ("mofcom-2025-62", "REE", d(2026, 11, 10), -5, "expired", 5, unconfirmed, as_of),
    ]


def test_as_of_2026_12_03_every_suspension_expired_and_unconfirmed(built):
    result = built["2026-12-03"]
    status = _status(result)
    expired = {key for key, value in status.items() if value == "expired_status_unconfirmed"}
    assert expired == {("mofcom-2025-57", e) for e in ("Er", "Eu", "Ho", "Tm", "Yb")} | {
        ("mofcom-2025-61", "REE"), ("mofcom-2025-62", "REE"), ("mofcom-2024-46", "")
    }  # fmt: skip
    assert "suspended" not in status.values()
    assert status[("mofcom-gacc-2025-18", "Dy")] == "in_force"
    as_of = d(2026, 12, 3)
    unconfirmed = "expired_status_unconfirmed"
    assert result["expiries"] == [
        ("mofcom-2024-46", None, d(2026, 11, 27), -6, "expired", 6, unconfirmed, as_of),
        ("mofcom-2025-57", "Er, Eu, Ho, Tm, Yb", d(2026, 11, 10), -23, "expired", 23, unconfirmed, as_of),
        ("mofcom-2025-61", "REE", d(2026, 11, 10), -23, "expired", 23, unconfirmed, as_of),
        ("mofcom-2025-62", "REE", d(2026, 11, 10), -23, "expired", 23, unconfirmed, as_of),
    ]


def test_a_malformed_as_of_date_stops_the_build_with_a_clear_error(built):
    bad = built["bad var"]
    assert not bad["success"]
    (message,) = bad["failures"]
    assert "dbt var as_of_date must be a date written YYYY-MM-DD" in message
    assert "got '3 Dec 2026'" in message


def test_the_interval_data_test_fails_on_an_overlap_and_on_a_history_that_ends(built, tmp_path):
    """The compiled singular test, run on a copy of the built warehouse whose status seed has an
    overlap (Ho's suspension runs two days into the next interval), a history that ends
    (mofcom-2024-46 without its last interval) and a regime with no history (mofcom-2026-12)."""
    root = built["root"]
    (compiled,) = (root / "target" / "compiled").rglob("assert_export_control_status_intervals.sql")
    copy = tmp_path / "warehouse.duckdb"  # same file name: the compiled SQL names catalog "warehouse"
    shutil.copy(root / "warehouse.duckdb", copy)
    con = duckdb.connect(str(copy))
    try:
        assert con.execute(compiled.read_text("utf-8")).fetchall() == []
        con.execute(
            "update reference.export_control_status set valid_to = date '2026-11-12' "
            "where regime_id = 'mofcom-2025-57' and element = 'Ho' and status = 'suspended'"
        )
        con.execute(
            "delete from reference.export_control_status where (regime_id = 'mofcom-2024-46' "
            "and status = 'expired_status_unconfirmed') or regime_id = 'mofcom-2026-12'"
        )
        problems = sorted((r[0], r[1], r[3]) for r in con.execute(compiled.read_text("utf-8")).fetchall())
    finally:
        con.close()
    assert problems == [
        ("mofcom-2024-46", "", "last interval ends (2026-11-27): the status after it is unstated"),
        ("mofcom-2025-57", "Ho", "overlaps the next interval (starting 2026-11-10)"),
        ("mofcom-2026-12", "", "no status interval"),
    ]


def test_report_built_after_2026_11_27_lists_the_expired_suspensions(built, tmp_path):
    """The 2026-12-03 mart, as dbt built it, in a serving file: the panel is drawn, not "no data"."""
    serving = make_serving_file(tmp_path / "serving")
    columns = ("regime_id", "elements", "suspended_until", "days_until", "expiry_state", "days_since_expiry",
               "status_as_of", "as_of_date")  # fmt: skip
    con = duckdb.connect(str(serving))
    try:
        con.execute("delete from marts.mart_upcoming_suspension_expiries")
        rows = [dict(zip(columns, row, strict=True)) for row in built["2026-12-03"]["expiries"]]
        _insert(con, "mart_upcoming_suspension_expiries", rows)
    finally:
        con.close()
    output = tmp_path / "supply_risk.html"
    result = build_report(serving, output, generated_at=datetime.datetime(2026, 12, 3, 9, 0))
    assert "upcoming_suspension_expiries" in result.charts_rendered
    page = output.read_text(encoding="utf-8")
    assert "no data:" not in page
    assert "4 expired (shaded), 0 upcoming" in page
    assert "ended 23 days ago" in page and "ended 6 days ago" in page
