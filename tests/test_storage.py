"""Write failures are told apart from bad files and named (dagster_project/lib/storage.py)."""

import errno
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from dagster_project.lib import storage


def test_an_oserror_or_a_library_message_names_the_reason_and_the_path():
    full = OSError(errno.ENOSPC, "No space left on device", "/data/lake/x.parquet")
    assert storage.write_error(full) == ("the disk is full", "/data/lake/x.parquet")
    duck = RuntimeError(
        'IO Error: Could not write file "/data/warehouse.duckdb.wal": No space left on device'
    )
    assert storage.write_error(duck) == ("the disk is full", "/data/warehouse.duckdb.wal")
    assert storage.write_error(ValueError("a bad number in row 3")) is None


def fake_statvfs(free_bytes: int, read_only: bool = False):
    return lambda path: SimpleNamespace(
        f_flag=os.ST_RDONLY if read_only else 0, f_bavail=free_bytes // 4096, f_frsize=4096
    )


def test_an_unnamed_library_error_on_a_full_or_read_only_disk_is_recognised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # polars reports a full disk as a thrift error, without ENOSPC.
    polars_says = RuntimeError("parquet: File out of specification: Invalid thrift: transport error")
    assert storage.write_error(polars_says, tmp_path) is None  # plenty of space here
    monkeypatch.setattr(os, "statvfs", fake_statvfs(8192))
    assert storage.write_error(polars_says, tmp_path / "lake" / "raw") == (
        "the disk is full (8 KB free)",
        None,
    )
    monkeypatch.setattr(os, "statvfs", fake_statvfs(10**12, read_only=True))
    assert storage.write_error(polars_says, tmp_path) == ("the file system is read-only", None)


def test_writing_raises_one_error_naming_the_path_and_what_to_do(tmp_path: Path):
    with (
        pytest.raises(storage.DataDirError) as raised,
        storage.writing("publish", tmp_path, tmp_path / "serving"),
    ):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "serving" / "x"))
    message = str(raised.value)
    assert message.startswith(
        f"publish: cannot write {tmp_path / 'serving' / 'x'}: the file system is read-only."
    )
    assert f"Make {tmp_path} writable" in message and "keeps its previous version" in message
    with pytest.raises(KeyError), storage.writing("publish", tmp_path):
        raise KeyError("not a write error")


def test_the_start_up_probe_passes_on_a_writable_dir_and_leaves_nothing(tmp_path: Path):
    assert storage.check_writable(tmp_path / "data") is None
    assert list((tmp_path / "data").iterdir()) == []


def test_write_atomic_writes_parquet_bytes_and_text_and_leaves_no_temporary(tmp_path: Path):
    import polars as pl

    frame = pl.DataFrame({"period": ["2025-01", "2025-02"], "value": [1.5, 2.0]})
    storage.write_atomic(tmp_path / "a" / "eager.parquet", frame)
    storage.write_atomic(tmp_path / "a" / "lazy.parquet", frame.lazy().filter(pl.col("value") > 1.9))
    storage.write_atomic(tmp_path / "b" / "payload.json", b'{"x": 1}')
    storage.write_atomic(tmp_path / "b" / "report.html", "<p>Größe</p>")
    assert pl.read_parquet(tmp_path / "a" / "eager.parquet").equals(frame)
    assert pl.read_parquet(tmp_path / "a" / "lazy.parquet").to_dicts() == [
        {"period": "2025-02", "value": 2.0}
    ]
    assert (tmp_path / "b" / "payload.json").read_bytes() == b'{"x": 1}'
    assert (tmp_path / "b" / "report.html").read_bytes() == "<p>Größe</p>".encode()
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "a",
        "b",
        "eager.parquet",
        "lazy.parquet",
        "payload.json",
        "report.html",
    ]


def test_a_failed_write_keeps_the_previous_file_and_removes_its_temporary(tmp_path: Path):
    target = tmp_path / "load_log.parquet"
    storage.write_atomic(target, b"previous")
    with pytest.raises(TypeError, match=f"write_atomic {target}: cannot write a dict"):
        storage.write_atomic(target, {"not": "content"})
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["load_log.parquet"]


def test_replace_atomic_moves_a_written_file_into_place(tmp_path: Path):
    written = tmp_path / "work" / "00000.parquet"
    written.parent.mkdir()
    written.write_bytes(b"rows")
    target = tmp_path / "raw" / "period=2025-01_02" / "gacc-1.parquet"
    storage.replace_atomic(written, target)
    assert target.read_bytes() == b"rows" and not written.exists()
