"""Disk full, quota exceeded, read-only or unwritable data dir: one clear error that names the
path, instead of a raw OSError (or DuckDB's IO Error) somewhere in a stack trace.

Nothing is lost either way: every write in the lake and the serving build goes to a temporary
name first and is renamed into place only when whole, so a failed write leaves the previous
serving version and the lake as they were. These helpers only say so, and say what to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

# errno → what it means for the user.
WRITE_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
# The same conditions as DuckDB and dbt report them in text.
WRITE_ERROR_TEXTS = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
}


class DataDirError(RuntimeError):
    def __init__(self, what: str, path: Path | str, reason: str, data_dir: Path):
        self.path = Path(path)
        self.reason = reason
        todo = (
            f"free some space on {data_dir}"
            if "full" in reason or "quota" in reason
            else f"make {data_dir} writable"
        )
        super().__init__(
            f"{what}: cannot write {path}: {reason}. {todo.capitalize()} (or set REE_DATA_DIR to "
            "another folder), then run again. Nothing was published: the serving file keeps its "
            "previous version."
        )


# Below this much free space, a write that failed for a reason the library did not name (polars
# reports a full disk as "parquet: File out of specification: Invalid thrift: transport error")
# is taken to have failed for lack of space.
LOW_SPACE_BYTES = 16 * 1024 * 1024


def write_error(error: BaseException, where: Path | None = None) -> tuple[str, str | None] | None:
    """(reason, path) when `error` is a failed write to storage, else None. With `where` (a path
    on the file system written to), an error a library reports in its own words is still
    recognised when that file system is read-only or (nearly) full."""
    if isinstance(error, OSError) and error.errno in WRITE_ERRORS:
        return WRITE_ERRORS[error.errno], error.filename
    text = str(error)
    for needle, code in WRITE_ERROR_TEXTS.items():
        if needle in text:
            return WRITE_ERRORS[code], _quoted_path(text)
    state = file_system_state(where) if where is not None else None
    return (state, None) if state else None


def file_system_state(where: Path) -> str | None:
    """'the file system is read-only' or 'the disk is full (N KB free)' for the file system
    holding `where` (or its nearest existing parent), else None."""
    path = where
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        stats = os.statvfs(path)
    except OSError:
        return None
    if stats.f_flag & os.ST_RDONLY:
        return WRITE_ERRORS[errno.EROFS]
    free = stats.f_bavail * stats.f_frsize
    if free < LOW_SPACE_BYTES:
        return f"{WRITE_ERRORS[errno.ENOSPC]} ({free // 1024} KB free)"
    return None


def _quoted_path(text: str) -> str | None:
    for quote in ('"', "'"):
        parts = text.split(quote)
        for part in parts[1::2]:
            if part.startswith("/"):
                return part
    return None


@contextlib.contextmanager
def writing(what: str, data_dir: Path, default_path: Path | None = None) -> Iterator[None]:
    """Turn a failed write inside the block into a `DataDirError` naming the path."""
    try:
        yield
    except DataDirError:
        raise
    except Exception as error:
        found = write_error(error, default_path or data_dir)
        if found is None:
            raise
        reason, path = found
        raise DataDirError(what, path or default_path or data_dir, reason, data_dir) from error


def check_writable(data_dir: Path) -> DataDirError | None:
    """Probe the data dir before a run: a read-only or unwritable dir is refused at once."""
    probe = data_dir / f".write-probe-{uuid.uuid4().hex}"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as handle:
            handle.write(b"ok")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        found = write_error(error)
        if found is None:
            raise
        return DataDirError("the data dir is not writable", error.filename or data_dir, found[0], data_dir)
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return None
