"""The generic landing step: lineage, quarantine, accounting, idempotence, revisions, GX gating."""

import json
from pathlib import Path

import polars as pl
import pytest
from conftest import FIXTURES, drop

from dagster_project.ingest.landing import ingest_source
from dagster_project.sources import SOURCES

COMTRADE = SOURCES["comtrade"]


def _ingest(workspace: dict[str, Path], force: bool = False):
    return ingest_source(COMTRADE, inbox_dir=workspace["inbox"], lake_dir=workspace["lake"], force=force)


def _landed(workspace: dict[str, Path]) -> pl.DataFrame:
    return pl.read_parquet(workspace["lake"] / "raw" / "comtrade" / "**" / "*.parquet")


def test_lands_partitioned_by_period_with_lineage(workspace):
    drop(workspace["inbox"], "comtrade", FIXTURES / "comtrade" / "china_exports_2024_monthly_and_annual.json")
    report = _ingest(workspace)
    (load,) = report.loads
    assert (load.status, load.rows_read, load.rows_landed, load.rows_quarantined) == ("landed", 5, 5, 0)
    assert load.periods == ["2024", "2024-01", "2024-02", "2024-03"]
    partitions = sorted(
        p.parent.name for p in (workspace["lake"] / "raw" / "comtrade").glob("period=*/*.parquet")
    )
    assert partitions == ["period=2024", "period=2024-01", "period=2024-02", "period=2024-03"]
    landed = _landed(workspace)
    assert landed["_source_file"].unique().to_list() == [
        "comtrade/china_exports_2024_monthly_and_annual.json"
    ]
    assert sorted(landed["_source_row"].to_list()) == [1, 2, 3, 4, 5]
    assert landed["_load_id"].unique().to_list() == [load.load_id]
    assert landed["_loaded_at"].null_count() == 0


def test_bad_rows_go_to_quarantine_with_reason_and_rows_add_up(workspace):
    drop(workspace["inbox"], "comtrade", FIXTURES / "comtrade" / "bad_rows.json")
    (load,) = _ingest(workspace).loads
    # HS 999999 (row 3) is under no rare-earth heading: counted out of scope, not quarantined
    assert (load.rows_read, load.rows_landed, load.rows_quarantined, load.rows_out_of_scope) == (7, 1, 5, 1)
    assert load.out_of_scope_reasons == {"not a rare-earth HS code": 1}
    quarantine = pl.read_parquet(workspace["lake"] / "quarantine" / "comtrade" / f"{load.load_id}.parquet")
    assert quarantine.height == 5
    assert 3 not in quarantine["_source_row"].to_list()
    assert quarantine.filter(pl.col("_source_row") == 2)["_reject_reason"].to_list() == [
        "unknown partner code 999"
    ]
    # the raw text is kept as it was, so the row can be fixed and re-sent
    assert quarantine.filter(pl.col("_source_row") == 1)["primaryValue"].to_list() == ["12,5x"]
    log = pl.read_parquet(workspace["lake"] / "audit" / "load_log" / "comtrade" / f"{load.load_id}.parquet")
    assert log.select("status", "rows_read", "rows_landed", "rows_quarantined", "rows_out_of_scope").row(
        0
    ) == (
        "landed",
        7,
        1,
        5,
        1,
    )
    assert log["out_of_scope_reasons"].to_list() == ['{"not a rare-earth HS code": 1}']


def test_loading_the_same_bytes_again_changes_nothing(workspace):
    drop(workspace["inbox"], "comtrade", FIXTURES / "comtrade" / "us_imports_2023_traps.json")
    _ingest(workspace)
    before = {p: p.read_bytes() for p in workspace["lake"].rglob("*.parquet")}
    # the same file again, under another name: recognised by content, skipped
    drop(
        workspace["inbox"], "comtrade", FIXTURES / "comtrade" / "us_imports_2023_traps.json", name="copy.json"
    )
    report = _ingest(workspace)
    assert report.loads == []
    assert sorted(report.skipped) == ["comtrade/copy.json", "comtrade/us_imports_2023_traps.json"]
    after = {p: p.read_bytes() for p in workspace["lake"].rglob("*.parquet") if p.name != "_schema.parquet"}
    assert after == {p: b for p, b in before.items() if p.name != "_schema.parquet"}


def test_unreadable_file_is_rejected_with_its_name_and_others_still_land(workspace):
    drop(
        workspace["inbox"],
        "comtrade",
        FIXTURES / "comtrade" / "error_page.json",
        FIXTURES / "comtrade" / "japan_imports_bom.csv",
    )
    report = _ingest(workspace)
    by_file = {load.source_file: load for load in report.loads}
    rejected = by_file["comtrade/error_page.json"]
    assert rejected.status == "rejected"
    assert rejected.message == (
        "comtrade/error_page.json: is an HTML page, not JSON (an API error page saved as .json?)"
    )
    assert (rejected.rows_read, rejected.rows_landed, rejected.rows_quarantined) == (0, 0, 0)
    assert by_file["comtrade/japan_imports_bom.csv"].rows_landed == 3
    # a rejected file is tried again on the next run (it may have been fixed), a landed one is not
    again = _ingest(workspace)
    assert [load.source_file for load in again.loads] == ["comtrade/error_page.json"]


def test_gx_suite_failure_rejects_the_whole_file(workspace, tmp_path):
    payload = json.loads((FIXTURES / "comtrade" / "us_imports_2023_traps.json").read_text())
    payload["data"].append(dict(payload["data"][1]))  # the MYS row twice: two figures for one key
    bad = tmp_path / "duplicate_keys.json"
    bad.write_text(json.dumps(payload))
    drop(workspace["inbox"], "comtrade", bad)
    (load,) = _ingest(workspace).loads
    assert load.status == "rejected"
    assert load.gx_success is False
    assert [f["expectation"] for f in load.gx_failed] == ["expect_compound_columns_to_be_unique"]
    assert load.gx_failed[0]["unexpected_count"] == 2
    assert (load.rows_read, load.rows_landed, load.rows_quarantined) == (11, 0, 11)
    assert not list((workspace["lake"] / "raw" / "comtrade").glob("period=*/*.parquet"))
    quarantine = pl.read_parquet(workspace["lake"] / "quarantine" / "comtrade" / f"{load.load_id}.parquet")
    assert quarantine["_reject_reason"].str.starts_with("file failed validation: ").all()


def test_unsupported_file_type_is_rejected_not_ignored(workspace):
    folder = workspace["inbox"] / "comtrade"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("remember to download 2025")
    (load,) = _ingest(workspace).loads
    assert (load.status, load.message) == (
        "rejected",
        "comtrade/notes.txt: unsupported file type '.txt'; comtrade takes .json or .csv",
    )


def test_a_temporary_renamed_by_a_concurrent_load_is_not_an_error(tmp_path, monkeypatch):
    """Two runs loading at once: a temporary file listed by one run's clean-up may be renamed into
    place by the other before it is looked at (seen in CI: FileNotFoundError stopped the run)."""
    from dagster_project.ingest import lake as lakes

    root = tmp_path / "lake"
    (root / "raw").mkdir(parents=True)
    gone = root / "raw" / ".x.parquet.123.partial"
    listed = [gone]
    monkeypatch.setattr(type(root), "rglob", lambda self, pattern: iter(listed))
    assert lakes.remove_stale_temporaries(root) == 0


def test_a_landed_message_names_the_most_frequent_out_of_scope_reasons():
    import datetime

    from dagster_project.ingest import lake as lakes

    load = lakes.FileLoad(
        load_id="usgs-0",
        source="usgs",
        source_file="usgs/table.csv",
        file_sha256="0" * 64,
        file_bytes=1,
        loaded_at=datetime.datetime(2026, 12, 1),
        status=lakes.LANDED,
        rows_read=20,
        rows_landed=2,
        rows_out_of_scope=18,
        out_of_scope_reasons={"a": 8, "b": 4, "c": 3, "d": 2, "e": 1},
    )
    assert lakes.landed_message(load) == (
        "2 rows landed, 0 quarantined, 18 out of scope (a: 8, b: 4, c: 3, 2 other reasons: 3)"
    )
    lakes.check_balance(load)
    load.rows_out_of_scope = 17
    with pytest.raises(AssertionError, match="rows_read 20 != 19"):
        lakes.check_balance(load)
