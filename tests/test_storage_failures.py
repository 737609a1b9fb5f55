"""A full disk or a read-only data dir: a clear error that names the path, and the previous
serving version intact. On a real, small tmpfs (mounting needs root: skipped elsewhere).

Slow (real runs): marked `slow`, run by `make test-slow` (and by CI).
"""

import subprocess
from pathlib import Path

import pytest
from runner import checksums, copy_state, inbox_with, output_of, run, start_run

pytestmark = pytest.mark.slow


@pytest.fixture
def small_fs(tmp_path: Path):
    mount = tmp_path / "fs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def remount(mount: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mount)], check=True)


def fill(mount: Path, leave_bytes: int) -> Path:
    filler = mount / ".filler.bin"
    chunk = b"\0" * (1 << 20)
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(chunk)
                handle.flush()
        except OSError:
            pass
    with open(filler, "r+b") as handle:
        handle.truncate(max(0, filler.stat().st_size - leave_bytes))
    return filler


def failed_run(inbox: Path, data: Path) -> str:
    process = start_run(inbox, data)
    process.wait(timeout=600)
    output = output_of(process)
    assert process.returncode == 1, output[-3000:]
    return output


def test_read_only_or_full_data_dir_fails_clearly_and_keeps_the_serving_file(
    small_fs: Path, tmp_path: Path, version_1: Path
):
    # The data dir is the small file system; logs and DAGSTER_HOME are beside it.
    inbox, data = copy_state(version_1, tmp_path, data=small_fs)
    serving = data / "serving" / "ree.duckdb"
    before = checksums(serving)
    inbox_with(tmp_path, "comtrade")

    remount(small_fs, "ro")
    try:
        output = failed_run(inbox, data)
    finally:
        remount(small_fs, "rw")
    assert f"the data dir is not writable: cannot write {data}" in output, output[-3000:]
    assert "the file system is read-only" in output
    assert checksums(serving) == before

    # Full while the run writes: the start-up probe passes, a write of the run fails.
    filler = fill(small_fs, leave_bytes=256 * 1024)
    output = failed_run(inbox, data)
    assert "the disk is full" in output and f"cannot write {data}" in output, output[-3000:]
    assert "STEP FAILED" in output and "NOT PUBLISHED" in output
    assert checksums(serving) == before

    filler.unlink()
    run(inbox, data)
    assert checksums(serving) != before
