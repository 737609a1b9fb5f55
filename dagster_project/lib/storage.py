"""Writing to the data dir: the one atomic writer, and the one clear error for a failed write.

`write_atomic` writes a file (Parquet from a polars frame, bytes, or text) to a hidden temporary
name beside its target, flushes it to disk and renames it into place, so a reader sees the old
file or the new one, never part of it, and a killed run leaves only a `.<name>.<hex>.partial`
that no reader globs. `replace_atomic` is the rename step alone, for a file already written (a
period file appended batch by batch).

Disk full, quota exceeded, read-only or unwritable data dir: one clear error that names the
path, instead of a raw OSError (or DuckDB's IO Error) somewhere in a stack trace. Nothing is lost
either way: since every write goes to a temporary name first and is renamed into place only when
whole, a failed write leaves the previous serving version and the lake as they were. These
helpers only say so, and say what to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import polars as pl

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


# What `write_atomic` writes: a frame becomes a Parquet file (a lazy one is streamed to it).
Content = pl.DataFrame | pl.LazyFrame | bytes | str


def temporary_name(path: Path) -> Path:
    """A hidden name beside `path`, unique per writer, that no reader's glob matches."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")


def write_atomic(path: Path, content: Content) -> None:
    """Write `content` to `path` atomically: Parquet (with statistics) for a frame, the bytes
    as they are, text as UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_name(path)
    try:
        if isinstance(content, pl.DataFrame):
            content.write_parquet(temporary, statistics=True)
        elif isinstance(content, pl.LazyFrame):
            content.sink_parquet(temporary, statistics=True)
        elif isinstance(content, bytes | str):
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(temporary, "wb") as handle:
                handle.write(data)
        else:
            raise TypeError(f"write_atomic {path}: cannot write a {type(content).__name__}")
        replace_atomic(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def replace_atomic(written: Path, path: Path) -> None:
    """Move a finished file into place: flushed to disk first, then one rename, so a reader sees
    the old file or the new one, never part of it. A file from another file system (a work
    folder elsewhere) is first copied beside its target under a hidden temporary name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if written.stat().st_dev != path.parent.stat().st_dev:
        temporary = temporary_name(path)
        shutil.copyfile(written, temporary)
        written = temporary
    with open(written, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(written, path)


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
