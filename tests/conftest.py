import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SAMPLES = REPO / "data" / "samples"


def _real_dir() -> Path:
    """The real agency files (never copied into the repository): `$REE_REAL_DIR`, else
    `../shared/real` beside the checkout or beside any folder above it, else this machine's
    shared folder, so that a clone made elsewhere (a CI work dir) still tests them."""
    if os.environ.get("REE_REAL_DIR"):
        return Path(os.environ["REE_REAL_DIR"])
    candidates = [parent / "shared" / "real" for parent in REPO.parents] + [Path("/work/shared/real")]
    return next((c for c in candidates if c.is_dir()), REPO.parent / "shared" / "real")


REAL_DIR = _real_dir()

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """An empty inbox and data dir outside the repo, set through the two environment variables."""
    inbox = tmp_path / "inbox with space"
    data = tmp_path / "data"
    inbox.mkdir()
    monkeypatch.setenv("REE_INBOX_DIR", str(inbox))
    monkeypatch.setenv("REE_DATA_DIR", str(data))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return {"inbox": inbox, "data": data, "lake": data / "lake"}


def drop(inbox: Path, source: str, *files: Path, name: str | None = None) -> list[Path]:
    folder = inbox / source
    folder.mkdir(parents=True, exist_ok=True)
    placed = []
    for file in files:
        target = folder / (name or file.name)
        shutil.copy(file, target)
        placed.append(target)
    return placed


def shared_state(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """A state built once per test session, also across pytest-xdist workers: they share the
    parent of their base temp folders, so the first worker builds it under a file lock and the
    others wait and reuse it (read-only: the tests copy it). Each build is a full run."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        root = factory.mktemp(name)
        build(root)
        return root
    root = factory.getbasetemp().parent / f"shared-{name}"
    with open(f"{root}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / ".complete").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            build(root)
            (root / ".complete").touch()
    return root


@pytest.fixture(scope="session")
def version_1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The state after one run over the prices and FX samples on a persistent instance: the
    slow tests copy it (runner.copy_state) instead of each paying that first run."""
    from runner import build_state

    return shared_state(tmp_path_factory, "version_1", lambda root: build_state(root, "prices", "fx"))


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The marts of one uninterrupted run over the comtrade, prices and fx samples."""
    from runner import build_state, checksums

    root = shared_state(
        tmp_path_factory, "reference", lambda root: build_state(root, "comtrade", "prices", "fx")
    )
    return checksums(root / "data" / "serving" / "ree.duckdb")


@pytest.fixture(scope="session")
def samples_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run over the shipped samples on the path `make run` takes (`python -m
    dagster_project.run`, a persistent DAGSTER_HOME from deploy/dagster.yaml), built once for
    every worker: `<root>/data` (its serving file is read by the BI tests) and `<root>/run.log`.
    Tests that write copy it first (runner.copy_state)."""
    from runner import run

    def build(root: Path) -> None:
        (root / "run.log").write_text(run(SAMPLES, root / "data"))
        (root / "inbox").mkdir()  # copy_state's layout; the inbox is SAMPLES itself

    return shared_state(tmp_path_factory, "samples", build)
