"""`SourceSpec.revision_key` is the partition that each `int_<source>__current` model keeps the
latest load of, and that partition does what the source's docstring promises: a newer file
replaces the same figures, never adds to them, and leaves other figures alone.

The models are rendered with plain Jinja (the `latest_revision` macro, the DuckDB forms of the
portable macros, and the model) and run on DuckDB tables shaped like the staging views, so no dbt
run is needed.
"""

import datetime
import re
from pathlib import Path

import duckdb
import jinja2
import polars as pl
import pytest
from conftest import FIXTURES

from dagster_project.sources import SOURCES, gacc, usgs
from dagster_project.sources.contract import REJECT_REASON

DBT = Path(__file__).resolve().parents[1] / "dbt"
MODELS = DBT / "models" / "intermediate"


def _model_sql(source: str) -> str:
    return (MODELS / f"int_{source}__current.sql").read_text(encoding="utf-8")


def partition_columns(sql: str) -> tuple[str, ...]:
    """The revision partition a current model keeps the latest load of: the key list of its
    `latest_revision(...)` call, or the `partition by` of its own window (USGS ranks editions)."""
    call = re.search(r"latest_revision\(\s*ref\('[^']+'\)\s*,\s*\[([^\]]*)\]", sql)
    if call:
        return tuple(re.findall(r"'([^']+)'", call[1]))
    window = re.search(r"partition\s+by\s+(.*?)\s+order\s+by", sql, re.S | re.I)
    assert window, "the model neither calls latest_revision nor ranks over a partition"
    return tuple(column.strip().split(".")[-1] for column in window[1].split(","))


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_spec_revision_key_is_the_partition_of_the_current_model(source: str):
    assert partition_columns(_model_sql(source)) == SOURCES[source].revision_key


def test_partition_columns_reads_both_forms():
    assert partition_columns("{{ latest_revision(ref('stg_x'), ['a', 'b']) }}") == ("a", "b")
    assert partition_columns("rank() over (partition by t.a, t.b order by t.c desc)") == ("a", "b")


def _current(source: str, staging: pl.DataFrame) -> pl.DataFrame:
    """`int_<source>__current` run over `staging` (the rows of its staging view)."""
    macro = (DBT / "macros" / "revisions.sql").read_text(encoding="utf-8")
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    # The portable macros' DuckDB forms, as `adapter.dispatch` picks them on the duckdb target.
    portable = env.from_string((DBT / "macros" / "portable.sql").read_text(encoding="utf-8")).module
    duckdb_forms = {
        name.removeprefix("duckdb__"): getattr(portable, name)
        for name in dir(portable)
        if name.startswith("duckdb__")
    }
    sql = env.from_string(macro + _model_sql(source)).render(ref=lambda name: "staging", **duckdb_forms)
    con = duckdb.connect()
    con.register("staging", staging.to_arrow())
    return con.sql(sql).pl()


def _staged(frame: pl.DataFrame, load_id: str, loaded_at: datetime.datetime) -> pl.DataFrame:
    assert frame[REJECT_REASON].null_count() == frame.height
    return frame.drop(REJECT_REASON, "_out_of_scope", strict=False).with_columns(
        pl.lit(load_id).alias("load_id"), pl.lit(loaded_at).alias("loaded_at")
    )


USGS_HEADER = "MCS chapter,Section,Commodity,Country,Statistics,Statistics_detail,Unit,Year,Value,Notes\n"
PRODUCTION = (
    "RARE EARTHS,World Mine Production and Reserves,Rare earths,Burma,Production,Mine production,metric tons,"
)
RESERVES = "RARE EARTHS,World Mine Production and Reserves,Rare earths,Burma,Reserves,Reserves,metric tons,"


def _usgs(tmp_path: Path, name: str, lines: list[str]) -> pl.DataFrame:
    path = tmp_path / name
    path.write_text(USGS_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return usgs.normalise(usgs.read(path))


def test_a_newer_usgs_edition_replaces_the_same_statistic_year_whatever_the_load_order(tmp_path):
    newer = _usgs(tmp_path, "mcs2026_release.csv", [PRODUCTION + '2024,"33,000",'])
    older = _usgs(
        tmp_path,
        "mcs2025_release.csv",
        [PRODUCTION + '2024,"31,000",', PRODUCTION + '2023,"38,000",', RESERVES + "2024,NA,"],
    )
    # The newer edition is loaded first: the edition decides, not the load time.
    staging = pl.concat(
        [
            _staged(newer, "usgs-2026", datetime.datetime(2026, 2, 1)),
            _staged(older, "usgs-2025", datetime.datetime(2026, 3, 1)),
        ],
        how="vertical_relaxed",
    )
    current = _current("usgs", staging).sort("statistic", "year")
    assert current.select("statistic", "year", "value", "mcs_edition").rows() == [
        ("Production", 2023, 38_000.0, 2025),  # only the older edition has 2023: kept
        ("Production", 2024, 33_000.0, 2026),  # the same statistic year: the newer edition wins
        ("Reserves", 2024, None, 2025),  # another statistic: left alone
    ]


def test_a_later_gacc_file_replaces_every_figure_of_its_flow_and_month(tmp_path):
    source = FIXTURES / "gacc" / "exports" / "rare_earth_exports_202503_usd.csv"
    first = gacc.normalise(gacc.read(source))
    assert first.height > 1 and first["period"].unique().to_list() == ["2025-03"]
    # The revised file for 2025-03 holds one line only; a file for 2025-04 loaded earlier stays.
    revised = first.head(1).with_columns(pl.col("value") * 2)
    april = first.head(1).with_columns(
        pl.lit("2025-04").alias("period"), pl.lit(datetime.date(2025, 4, 1)).alias("period_start")
    )
    staging = pl.concat(
        [
            _staged(first, "gacc-march", datetime.datetime(2026, 1, 1)),
            _staged(april, "gacc-april", datetime.datetime(2026, 1, 2)),
            _staged(revised, "gacc-march-revised", datetime.datetime(2026, 1, 3)),
        ]
    )
    current = _current("gacc", staging).sort("period")
    assert current.select("period", "load_id", "value").rows() == [
        ("2025-03", "gacc-march-revised", first["value"][0] * 2),
        ("2025-04", "gacc-april", first["value"][0]),
    ]
