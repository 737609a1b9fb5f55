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


def write_error(error: BaseException) -> tuple[str, str | None] | None:
    """(reason, path) when `error` is a failed write to storage, else None."""
    if isinstance(error, OSError) and error.errno in WRITE_ERRORS:
        return WRITE_ERRORS[error.errno], error.filename
    text = str(error)
    for needle, code in WRITE_ERROR_TEXTS.items():
        if needle in text:
            return WRITE_ERRORS[code], _quoted_path(text)
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
        found = write_error(error)
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
