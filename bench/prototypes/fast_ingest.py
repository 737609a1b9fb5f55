"""PROTOTYPE (not product code): batched, bounded-memory ingest of one CSV file, for the benchmark.

What it changes against `dagster_project.ingest.landing.load_file` (same inputs, same lake layout,
same load_log record, same row rules, same GX suite):

1. Read: polars streams the file from disk in batches (`scan_csv(...).collect_batches`), only the
   columns `normalise` reads, instead of bytes → str → one-line-ending copy → bytes → one frame of
   every column. The head checks (empty, encoding, HTML, header, required columns) are the
   product's own, on the first 64 KiB. A GBK file (GACC) is transcoded to UTF-8 on disk in 16 MiB
   blocks (strict decoding, as the product). Anything else unusual (gzip, lone CR line ends, a
   parse error) falls back to the product's `load_file`, so the messages stay the product's.
2. Per batch: the product's `normalise` and row rules, then the product's GX suite on a
   numpy-backed pandas view (`to_pandas()`, not `use_pyarrow_extension_array=True`: GX falls back
   to a Python-level `map` for pyarrow doubles and fingerprints pyarrow columns element by
   element) with result_format BOOLEAN_ONLY (no counts or samples to build: a pass/fail first
   pass). Passing on every batch implies passing on the file (`mostly` too: a weighted mean of
   ratios >= 0.95 is >= 0.95); the record key's uniqueness across batches is a GX
   `ExpectColumnValuesToBeUnique` on a 64-bit hash of the key (8 bytes a row), confirmed exactly
   on the staged rows when a hash repeats. Any failure hands the file to the product's
   `load_file`, which then writes exactly today's messages, samples and quarantine.
3. Landing: each batch's landing rows are staged as one Parquet file sorted by period (small row
   groups) under `lake/.staging/<load_id>/`; only when the whole file passed is each period read
   back (row-group statistics skip the rest) into `raw/<source>/period=<p>/<load_id>.parquet`,
   atomically as today. Rows that break a row rule go to quarantine with their raw text, read
   back from the file in a second streaming pass of only those rows.
4. Two cores: a reader thread parses and normalises batch i+1 (polars releases the GIL) while
   the main thread validates batch i and stages it; a queue of one keeps what is in flight small.
   polars' `collect_batches` reads ahead of its consumer without a bound (2.2 GB buffered on a
   3 GB file when the consumer is slow): at 250,000-row batches the measured peak on a 10^7-row
   file is 1.7 GB. READER=blocks bounds it strictly (1.3 GB) at a cost in speed (see below).
"""

from __future__ import annotations

import codecs
import datetime
import os
import queue
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dagster_project.ingest import landing, validation  # noqa: E402
from dagster_project.sources import SOURCES, base, comtrade, gacc  # noqa: E402
from dagster_project.sources.base import REJECT_REASON, ROW_NUMBER, SourceFileError  # noqa: E402

# How the file is cut into batches (measured on a 10^7-row, 3 GB Comtrade CSV, docs/benchmarks.md):
#   collect       polars' streaming reader (collect_batches) in a reader thread: fastest; its
#                 read-ahead is not bounded by the consumer (1.8 GB peak at 250k-row batches)
#   blocks        byte blocks cut at record ends, parsed by pl.read_csv in a reader thread:
#                 memory strictly bounded (1.3 GB), about 1.8x slower (the two threads contend)
#   sink_batches  polars calls back per batch and waits: bounded, slower again
READER = os.environ.get("PROTO_READER", "collect")
BATCH_ROWS = int(os.environ.get("PROTO_BATCH_ROWS", "250000"))
STAGE_ROW_GROUP = 2_000
BLOCK_BYTES = int(float(os.environ.get("PROTO_BLOCK_MB", "64")) * (1 << 20))
KEY_HASH = "_record_key_hash"
FALLBACKS: list[str] = []  # files the fast path handed to the product's load_file, and why


class Fallback(Exception):
    """The fast path does not handle this file: the product's load_file does."""


# --- GX: numpy-backed view, pass/fail -------------------------------------------------------------


def suite_passes(name: str, frame: pl.DataFrame, expectations: list) -> bool:
    """The product's suite on one batch: numpy-backed view, BOOLEAN_ONLY."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(
        name=f"{name}_landing", expectations=[validation._expectation(n, kw) for n, kw in expectations]
    )
    batch = validation._batch_definition().get_batch(batch_parameters={"dataframe": frame.to_pandas()})
    return bool(batch.validate(suite, result_format="BOOLEAN_ONLY").success)


# --- reading ------------------------------------------------------------------------------------


def _utf8_copy(path: Path, staging: Path) -> Path:
    """GACC: UTF-8 as is; otherwise GB18030 → a UTF-8 copy on disk, decoded strictly in blocks."""
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        target = staging / "utf8.csv"
        try:
            with open(path, "rb") as source, open(target, "wb") as out:
                first = True
                while block := source.read(16 << 20):
                    if first and block.startswith(codecs.BOM_UTF8):
                        block = block[3:]
                    first = False
                    text = decoder.decode(block)
                    if encoding != "utf-8":
                        out.write(text.encode("utf-8"))
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8":
            target.unlink()
            return path
        return target
    raise Fallback("neither UTF-8 nor GB18030")


def _prepare(spec_name: str, path: Path, staging: Path) -> tuple[Path, list[str], Any]:
    """Head checks (the product's), the file polars reads, the columns it needs, the per-batch step."""
    head_bytes = base.read_head(path)
    if head_bytes[:2] == base.GZIP_MAGIC or base.data_suffix(path) != ".csv":
        raise Fallback("gzip or not CSV")
    if spec_name == "comtrade":
        head = base.sniff_text(path)
        if base.looks_like_html(head):
            raise Fallback("html")
        header = base.head_columns(path, head)
        base.check_columns(path, header, comtrade.REQUIRED)
        wanted = [c for c in comtrade.REQUIRED + comtrade.OPTIONAL if c in header]
        missing = [c for c in comtrade.OPTIONAL if c not in header]

        def step(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)

        source = path
    elif spec_name == "gacc":
        head, encoding = gacc.decode_text(path, head_bytes, partial=True)
        if base.looks_like_html(head):
            raise Fallback("html")
        header = base.head_columns(path, head)
        gacc._check_header(path, header, encoding)
        flow = gacc.flow_from_path(path)
        value_columns = [c for c in gacc.VALUE_COLUMNS if c in header]
        if len(value_columns) != 1:
            raise Fallback("value columns")
        wanted = list(dict.fromkeys(c for c in header if c))
        missing = [c for c in gacc.OPTIONAL if c not in header]

        def step(frame: pl.DataFrame) -> pl.DataFrame:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
            cells = [c for c in frame.columns if c != ROW_NUMBER]
            blank = pl.all_horizontal(
                pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in cells
            )
            return frame.filter(~blank).with_columns(pl.lit(flow).alias(gacc.FLOW_COLUMN))

        source = _utf8_copy(path, staging)
    else:
        raise Fallback("source without a batched reader")
    if "\r" in head.replace("\r\n", ""):
        raise Fallback("lone CR line ends")
    if len(set(header)) != len(header):
        raise Fallback("duplicated header")
    return source, wanted, step


def _scan(source: Path, columns: list[str] | None) -> pl.LazyFrame:
    frame = pl.scan_csv(
        source,
        infer_schema=False,
        truncate_ragged_lines=False,
        row_index_name=ROW_NUMBER,
        row_index_offset=1,
        with_column_names=lambda names: [n.strip() for n in names],
    ).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))
    return frame.select(ROW_NUMBER, *columns) if columns is not None else frame


def _blocks(source: Path, columns: list[str]):
    """The file as frames of about BLOCK_BYTES each, cut at record ends (a newline outside quotes:
    an even number of quote characters before it), each parsed by polars with the header in
    front. Memory is one block, whatever the file size; row numbers run on across blocks."""
    offset = 1
    with open(source, "rb") as handle:
        header = handle.readline()
        names = pl.read_csv(header, infer_schema=False, n_rows=0).columns
        raw_columns = [n for n in names if n.strip() in columns]
        carry, parity = b"", 0
        while True:
            data = handle.read(BLOCK_BYTES)
            buffer = carry + data
            if not data:
                cut = len(buffer) - 1
            else:
                cut = buffer.rfind(b"\n")
                while cut != -1 and (parity + buffer.count(b'"', 0, cut)) % 2:
                    cut = buffer.rfind(b"\n", 0, cut)
                if cut == -1:
                    carry = buffer
                    continue
            chunk, carry = buffer[: cut + 1], buffer[cut + 1 :]
            parity = (parity + chunk.count(b'"')) % 2
            if chunk.strip():
                frame = pl.read_csv(
                    header + chunk, infer_schema=False, truncate_ragged_lines=False, columns=raw_columns
                )
                frame = frame.rename({c: c.strip() for c in frame.columns}).select(columns)
                frame = frame.with_row_index(ROW_NUMBER, offset=offset).with_columns(
                    pl.col(ROW_NUMBER).cast(pl.Int64)
                )
                offset += frame.height
                yield frame
            if not data:
                return


# --- one file -----------------------------------------------------------------------------------


def load_file(spec, path: Path, *, inbox_dir: Path, lake_dir: Path, sha256: str | None = None, timings=None):
    sha256 = sha256 or landing.file_sha256(path)
    staging = lake_dir / ".staging" / f"{spec.name}-{sha256[:16]}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        return _load_file(
            spec,
            path,
            inbox_dir=inbox_dir,
            lake_dir=lake_dir,
            sha256=sha256,
            staging=staging,
            timings=timings,
        )
    except (Fallback, SourceFileError, pl.exceptions.ComputeError, pl.exceptions.NoDataError) as err:
        FALLBACKS.append(f"{path.name}: {type(err).__name__}: {err}"[:300])
        return landing.load_file(spec, path, inbox_dir=inbox_dir, lake_dir=lake_dir, sha256=sha256)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _load_file(spec, path, *, inbox_dir, lake_dir, sha256, staging, timings):
    timings = timings if timings is not None else {}
    load_id = f"{spec.name}-{sha256[:16]}"
    relative = path.relative_to(inbox_dir).as_posix() if path.is_relative_to(inbox_dir) else str(path)
    loaded_at = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    load = landing.FileLoad(
        load_id=load_id, source=spec.name, source_file=relative, file_sha256=sha256,
        file_bytes=path.stat().st_size, loaded_at=loaded_at, status=landing.REJECTED,
    )  # fmt: skip
    sidecar = path.with_name(path.name + landing.REQUEST_SUFFIX)
    if sidecar.exists():
        load.request = sidecar.read_text(encoding="utf-8")
    raw_dir = lake_dir / "raw" / spec.name
    quarantine_path = lake_dir / "quarantine" / spec.name / f"{load_id}.parquet"
    for old in raw_dir.glob(f"period=*/{load_id}.parquet"):
        old.unlink()
    quarantine_path.unlink(missing_ok=True)

    clock = time.perf_counter()
    source, wanted, step = _prepare(spec.name, path, staging)
    timings["prepare"] = time.perf_counter() - clock
    key_columns = next(kw["column_list"] for n, kw in spec.suite() if n == "ExpectCompoundColumnsToBeUnique")
    expectations = spec.suite()

    # polars' streaming engine parses ahead on its own threads while this callback (normalise, GX,
    # staging) runs; sink_batches waits for the callback, so the read-ahead stays bounded
    # (collect_batches does not wait: measured 2.2 GB of buffered batches on a 3 GB file).
    hashes, bad, periods = [], [], set()
    state = {"rows_read": 0, "rows_good": 0, "index": 0, "error": None, "clock": time.perf_counter()}
    seconds = {"read": 0.0, "normalise": 0.0, "gx": 0.0, "write": 0.0}

    def tick(phase: str) -> None:
        now = time.perf_counter()
        seconds[phase] += now - state["clock"]
        state["clock"] = now

    def prepare_batch(raw: pl.DataFrame) -> tuple[int, pl.DataFrame]:
        raw = step(raw)
        return raw.height, spec.normalise(raw)

    def on_batch(raw: pl.DataFrame | None, prepared: tuple[int, pl.DataFrame] | None = None) -> bool | None:
        try:
            if prepared is None:
                tick("read")
                prepared = prepare_batch(raw)
                tick("normalise")
            height, typed = prepared
            state["rows_read"] += height
            good = typed.filter(pl.col(REJECT_REASON).is_null())
            bad.append(typed.filter(pl.col(REJECT_REASON).is_not_null()).select(ROW_NUMBER, REJECT_REASON))
            if good.height:
                view = good.select(*spec.landing_schema).with_columns(
                    expr.alias(name) for name, expr in spec.derived_for_validation.items()
                )
                if not suite_passes(spec.name, view, expectations):
                    raise Fallback(f"batch {state['index']} failed the GX suite: the product reports it")
                hashes.append(good.select(pl.struct(key_columns).hash().alias(KEY_HASH)))
                tick("gx")
                staged = landing._lineage(good.drop(REJECT_REASON), relative, load_id, loaded_at).select(
                    *spec.landing_schema, *landing.LINEAGE_SCHEMA
                )
                # one staged file per batch, sorted by period in small row groups: the final pass
                # reads each period back through the row-group statistics
                staged.sort("period", ROW_NUMBER).write_parquet(
                    staging / f"batch-{state['index']:05d}.parquet",
                    statistics=True,
                    compression="lz4",
                    row_group_size=STAGE_ROW_GROUP,
                )
                periods.update(staged["period"].unique().to_list())
                state["rows_good"] += good.height
                tick("write")
            state["index"] += 1
            return None
        except BaseException as err:  # noqa: BLE001 (re-raised below, after polars stops)
            state["error"] = err
            return True  # stop the stream

    if READER == "sink_batches":
        _scan(source, wanted).sink_batches(on_batch, chunk_size=BATCH_ROWS)
    else:
        if READER == "blocks":
            frames = _blocks(source, wanted)
        else:
            frames = _scan(source, wanted).collect_batches(chunk_size=BATCH_ROWS)
        # a reader thread parses block i+1 (polars releases the GIL) while on_batch handles block i;
        # a queue of one bounds what is in flight to about three blocks
        blocks: queue.Queue = queue.Queue(maxsize=1)
        stop = threading.Event()

        def produce() -> None:  # parse and normalise (polars, GIL released) beside GX
            try:
                clock = time.perf_counter()
                for frame in frames:
                    if stop.is_set():
                        break
                    prepared = prepare_batch(frame)
                    seconds["read_and_normalise_in_reader"] = (
                        seconds.get("read_and_normalise_in_reader", 0.0) + time.perf_counter() - clock
                    )
                    blocks.put(prepared)
                    clock = time.perf_counter()
            except BaseException as err:  # noqa: BLE001
                blocks.put(err)
            blocks.put(None)

        reader = threading.Thread(target=produce, daemon=True)
        reader.start()
        while (item := blocks.get()) is not None:
            if isinstance(item, BaseException):
                state["error"] = item
                break
            state["clock"] = time.perf_counter()  # time waiting for the reader is not a phase
            if on_batch(None, item):
                break
        stop.set()
        while item is not None:  # let the reader finish (or stop at its next put)
            item = blocks.get()
        reader.join()
    if state["error"] is not None:
        raise state["error"]
    rows_read, rows_good = state["rows_read"], state["rows_good"]
    gx_s, write_s = seconds["gx"], seconds["write"]
    timings.update(seconds)

    bad_reasons = (
        pl.concat(bad) if bad else pl.DataFrame(schema={ROW_NUMBER: pl.Int64, REJECT_REASON: pl.String})
    )
    load.rows_read = rows_read
    clock = time.perf_counter()
    if len(hashes) > 1:
        # the record key across batches: GX on one hash column, confirmed exactly if a hash repeats
        import great_expectations as gx

        all_hashes = pl.concat(hashes)
        key_suite = gx.ExpectationSuite(
            name=f"{spec.name}_key",
            expectations=[validation._expectation("ExpectColumnValuesToBeUnique", {"column": KEY_HASH})],
        )
        key_batch = validation._batch_definition().get_batch(
            batch_parameters={"dataframe": all_hashes.to_pandas()}
        )
        if not key_batch.validate(key_suite, result_format="BOOLEAN_ONLY").success:
            repeated = all_hashes.filter(pl.col(KEY_HASH).is_duplicated())[KEY_HASH].unique().implode()
            staged = pl.scan_parquet(sorted(staging.glob("batch-*.parquet")))
            dupes = (
                staged.select(key_columns)
                .filter(pl.struct(key_columns).hash().is_in(repeated))
                .filter(pl.struct(key_columns).is_duplicated())
                .collect()
            )
            if dupes.height:
                raise Fallback("record keys repeat across batches: the product reports it")
    load.gx_success = True
    gx_s += time.perf_counter() - clock

    clock = time.perf_counter()
    if bad_reasons.height:
        # second streaming pass: the raw text of the rows that broke a row rule
        rows = _scan(source, None).join(bad_reasons.lazy(), on=ROW_NUMBER, how="inner")
        quarantined = step(rows.collect()).select(
            pl.all().exclude(ROW_NUMBER, REJECT_REASON).cast(pl.String), ROW_NUMBER, REJECT_REASON
        )
        landing.write_parquet_atomic(
            landing._lineage(quarantined, relative, load_id, loaded_at), quarantine_path
        )
        load.rows_quarantined = quarantined.height
    parts = sorted(staging.glob("batch-*.parquet"))
    if parts:
        staged_rows = pl.scan_parquet(parts)
        for period in sorted(periods):
            part = staged_rows.filter(pl.col("period") == period).collect().sort(ROW_NUMBER)
            folder = f"period={str(period).replace('/', '_')}"
            landing.write_parquet_atomic(part, raw_dir / folder / f"{load_id}.parquet")
    load.periods = sorted(periods)
    load.rows_landed = rows_good
    write_s += time.perf_counter() - clock
    timings.update(gx=gx_s, write=write_s)
    load.status = landing.LANDED
    load.message = (
        f"{load.rows_landed} rows landed, {load.rows_quarantined} quarantined"
        if load.rows_read
        else "no data rows (header only or empty list)"
    )
    assert load.rows_read == load.rows_landed + load.rows_quarantined, load
    landing._write_load_log(lake_dir, load)
    return load


def ingest_source(spec, *, inbox_dir: Path, lake_dir: Path, force: bool = False, timings=None):
    """landing.ingest_source with the batched load_file (the rest unchanged)."""
    report = landing.SourceLoadReport(source=spec.name)
    landing.remove_stale_temporaries(lake_dir)
    landing.ensure_schemas(spec, lake_dir)
    for path in landing.discover(inbox_dir, spec.name):
        sha256 = landing.file_sha256(path)
        load_id = f"{spec.name}-{sha256[:16]}"
        if not force and landing.previous_status(lake_dir, spec.name, load_id) == landing.LANDED:
            report.skipped.append(path.relative_to(inbox_dir).as_posix())
            continue
        report.loads.append(
            load_file(spec, path, inbox_dir=inbox_dir, lake_dir=lake_dir, sha256=sha256, timings=timings)
        )
    return report


def measure(args) -> dict:
    """bench/measure.py `proto`: the same call and timing as the product measurement."""
    started = time.perf_counter()
    validation._batch_definition()
    spec = SOURCES[args.source]
    if args.warmup:  # as the product measurement: one small file first, untimed
        ingest_source(spec, inbox_dir=Path(args.warmup), lake_dir=Path(args.lake + "-warmup"))
        shutil.rmtree(args.lake + "-warmup", ignore_errors=True)
    warm = time.perf_counter() - started
    lake = Path(args.lake)
    shutil.rmtree(lake, ignore_errors=True)
    with open("/proc/self/status") as handle:
        before = next(int(line.split()[1]) / 1024 for line in handle if line.startswith("VmRSS:"))
    timings: dict = {}
    started = time.perf_counter()
    report = ingest_source(spec, inbox_dir=Path(args.inbox), lake_dir=lake, timings=timings)
    seconds = time.perf_counter() - started
    bad = [f"{load.source_file}: {load.message}" for load in report.loads if load.status != "landed"]
    return {
        "seconds": seconds, "rows": report.rows_read, "rows_landed": report.rows_landed,
        "rows_quarantined": report.rows_quarantined, "files": len(report.loads), "rejected": bad,
        "phases": timings, "fallbacks": FALLBACKS, "warmup_seconds": warm, "rss_before_mb": before, "batch_rows": BATCH_ROWS, "block_bytes": BLOCK_BYTES, "reader": READER,
    }  # fmt: skip


if __name__ == "__main__":  # equivalence check: python bench/prototypes/fast_ingest.py <source> <inbox>
    spec = SOURCES[sys.argv[1]]
    inbox = Path(sys.argv[2])
    work = Path(sys.argv[3] if len(sys.argv) > 3 else "/tmp/ree-bench/proto-check")
    shutil.rmtree(work, ignore_errors=True)
    a = landing.ingest_source(spec, inbox_dir=inbox, lake_dir=work / "product")
    b = ingest_source(spec, inbox_dir=inbox, lake_dir=work / "proto")
    for x, y in zip(a.loads, b.loads, strict=True):
        print(
            x.source_file,
            x.status,
            y.status,
            x.rows_landed,
            y.rows_landed,
            x.rows_quarantined,
            y.rows_quarantined,
        )
        assert (x.status, x.rows_read, x.rows_landed, x.rows_quarantined, x.periods) == (
            y.status, y.rows_read, y.rows_landed, y.rows_quarantined, y.periods), (x, y)  # fmt: skip
    for kind in ("raw", "quarantine"):
        files_a = sorted(
            p.relative_to(work / "product") for p in (work / "product" / kind).rglob("*.parquet")
        )
        files_b = sorted(p.relative_to(work / "proto") for p in (work / "proto" / kind).rglob("*.parquet"))
        assert files_a == files_b, (kind, set(files_a) ^ set(files_b))
        for rel in files_a:
            fa = pl.read_parquet(work / "product" / rel).drop("_loaded_at").sort(ROW_NUMBER)
            fb = pl.read_parquet(work / "proto" / rel).drop("_loaded_at").sort(ROW_NUMBER)
            if not fa.equals(fb):
                raise SystemExit(f"{rel} differs:\n{fa.head(3)}\n{fb.head(3)}")
        print(f"same {kind}: {len(files_a)} files")
    print("fell back to the product:", FALLBACKS)
