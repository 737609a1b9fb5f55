"""Great Expectations 1.x on a pandas view of the landing frame.

GX is imported here, inside the function, never at code-location load (it takes seconds), and
its SQL path on DuckDB is avoided on purpose (it is broken there): the suite runs on pandas.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from dagster_project.sources.contract import Expectation, SourceSpec

SAMPLE_SIZE = 5


@dataclass
class SuiteResult:
    success: bool
    evaluated: int
    failed: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        if self.success:
            return f"{self.evaluated} expectations passed"
        return "; ".join(
            f"{f['expectation']}({f['column'] or ''}): {f['unexpected_count']} unexpected"
            for f in self.failed
        )


def suite_view(spec: SourceSpec, rows: pl.DataFrame) -> pl.DataFrame:
    """What the source's suite validates: the landing columns of `rows`, plus the columns the
    source derives for validation only (`SourceSpec.derived_for_validation`)."""
    return rows.select(*spec.landing_schema).with_columns(
        expr.alias(name) for name, expr in spec.derived_for_validation.items()
    )


def _gx() -> Any:
    """`great_expectations`, imported on first use with pyspark hidden from it.

    When pyspark is installed (the optional `spark` group), GX's import reaches
    `pyspark.sql.connect`, whose dependency check calls `sys.exit(0)` in a process whose main
    module has neither `__spec__` nor `__file__` (it takes it for a doctest run): a Dagster run
    worker started with `python -c` under `make dev` is one, and every load died there. The suites
    run on pandas and never need Spark, so GX is imported as if pyspark were absent; pyspark itself
    stays importable afterwards for whoever needs it."""
    if "great_expectations" not in sys.modules:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        hide = "pyspark" not in sys.modules
        if hide:
            sys.modules["pyspark"] = None  # type: ignore[assignment] (`import pyspark` → ImportError)
        try:
            import great_expectations  # noqa: F401
        finally:
            if hide:
                del sys.modules["pyspark"]
    return sys.modules["great_expectations"]


@functools.cache
def _batch_definition() -> Any:
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("ree_landing").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole_frame")


def _expectation(name: str, kwargs: dict[str, Any]) -> Any:
    _gx()
    import great_expectations.expectations as gxe

    return getattr(gxe, name)(**kwargs)


def _validate(name: str, frame: pl.DataFrame, expectations: list[Expectation], result_format: str) -> Any:
    gx = _gx()

    columns = sorted(
        {c for _, kw in expectations for key in ("column", "column_A", "column_B") if (c := kw.get(key))}
        | {c for _, kw in expectations for c in kw.get("column_list", [])}
    )
    # Only the columns the suite reads are converted; a column-set expectation sees them all. A
    # numpy-backed view validates about twice as fast as a pyarrow-backed one (docs/benchmarks.md).
    needs_all = any(n == "ExpectTableColumnsToMatchSet" for n, _ in expectations)
    view = (frame if needs_all else frame.select(columns)).to_pandas()
    suite = gx.ExpectationSuite(
        name=f"{name}_landing", expectations=[_expectation(n, kw) for n, kw in expectations]
    )
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": view})
    return batch.validate(suite, result_format=result_format)


def suite_passes(name: str, frame: pl.DataFrame, expectations: list[Expectation]) -> bool:
    """Pass/fail only (GX's BOOLEAN_ONLY: no counts, no samples), the fast first look of a batch."""
    return bool(_validate(name, frame, expectations, "BOOLEAN_ONLY").success)


def unexpected_counts(frame: pl.DataFrame, expectations: list[Expectation]) -> list[dict[str, Any]]:
    """Per expectation, in order: unexpected and non-missing row counts, and a few samples, so a
    `mostly` threshold can be decided over several batches of one file."""
    result = _validate("counts", frame, expectations, "SUMMARY")
    counts = []
    for item in result.results:
        res = item.result or {}
        element_count = int(res.get("element_count") or 0)
        missing_count = int(res.get("missing_count") or 0)
        counts.append(
            {
                "unexpected": int(res.get("unexpected_count") or 0),
                "non_missing": element_count - missing_count,
                "sample": [str(v) for v in (res.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]],
            }
        )
    return counts


def run_suite(name: str, frame: pl.DataFrame, expectations: list[Expectation]) -> SuiteResult:
    """Validate `frame` against the source's expectations; report failures with samples."""
    result = _validate(name, frame, expectations, "SUMMARY")
    failed = []
    for item in result.results:
        if item.success:
            continue
        kwargs = item.expectation_config.kwargs
        res = item.result or {}
        error = (item.exception_info or {}).get("exception_message")
        failed.append(
            {
                "expectation": item.expectation_config.type,
                "column": kwargs.get("column") or ",".join(kwargs.get("column_list", []) or []),
                "unexpected_count": int(res.get("unexpected_count") or 0),
                "unexpected_percent": round(float(res.get("unexpected_percent") or 0.0), 3),
                "sample": [str(v) for v in (res.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]],
                "observed": str(res.get("observed_value"))[:200] if "observed_value" in res else None,
                "error": error,
            }
        )
    return SuiteResult(success=bool(result.success), evaluated=len(result.results), failed=failed)
