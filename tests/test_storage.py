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
