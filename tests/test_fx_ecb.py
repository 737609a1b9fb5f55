"""FX: the ECB euro reference-rate CSV, read into the documented long shape with USD cross rates."""

import datetime

import polars as pl
import pytest
from conftest import FIXTURES, SAMPLES, drop

from dagster_project.ingest.landing import ingest_source
from dagster_project.sources import fx
from dagster_project.sources.contract import OUT_OF_SCOPE, REJECT_REASON, SourceFileError

F = FIXTURES / "fx"
HIST = F / "eurofxref_hist_2025_slice.csv"


def _typed(name: str) -> pl.DataFrame:
    return fx.normalise(fx.read(F / name))


def test_ecb_layout_becomes_long_rows_of_the_used_currencies_only():
    raw = fx.read(HIST)
    # 8 business days × 8 used currencies; BGN, CZK, the legacy CYP … columns are not rows.
    assert raw.height == 64
    assert raw.columns == [
        "_source_row",
        "date",
        "currency",
        "per_usd",
        "rate_source",
        "ecb_quote",
        "ecb_usd_per_eur",
    ]
    assert raw["currency"].unique().sort().to_list() == [
        "AUD",
        "CAD",
        "CNY",
        "EUR",
        "GBP",
        "INR",
        "JPY",
        "KRW",
    ]
    first_day = raw.head(8)
    assert first_day["date"].unique().to_list() == ["2025-01-10"]  # newest first, as the ECB writes
    # data row 1; CSV columns: Date 1, USD 2 (EUR is computed from it), JPY 3, GBP 9, AUD 27, …
    assert first_day.select("_source_row", "currency").rows() == [
        (1002, "EUR"),
        (1003, "JPY"),
        (1009, "GBP"),
        (1027, "AUD"),
        (1029, "CAD"),
        (1030, "CNY"),
        (1034, "INR"),
        (1035, "KRW"),
    ]


def test_cross_rates_through_the_usd_column():
    typed = _typed(HIST.name)
    day = typed.filter(pl.col("rate_date") == datetime.date(2025, 1, 10))
    rates = dict(day.select("currency", "per_usd").rows())
    assert rates == {
        "EUR": 1 / 1.0304,
        "JPY": 162.98 / 1.0304,
        "GBP": 0.83650 / 1.0304,
        "AUD": 1.6660 / 1.0304,
        "CAD": 1.4820 / 1.0304,
        "CNY": 7.5546 / 1.0304,
        "INR": 88.7390 / 1.0304,
        "KRW": 1515.45 / 1.0304,
    }
    assert round(rates["CNY"], 4) == 7.3317
    assert day["rate_source"].unique().to_list() == ["ecb_cross"]
    assert day["period"].unique().to_list() == ["2025-01"]


def test_missing_quotes_and_a_day_without_usd_are_out_of_scope_not_quarantined():
    typed = _typed(HIST.name)
    assert typed[REJECT_REASON].null_count() == typed.height
    missing = typed.filter(pl.col(OUT_OF_SCOPE).is_not_null())
    assert missing.select("_source_row", "rate_date", "currency", OUT_OF_SCOPE).rows() == [
        (2034, datetime.date(2025, 1, 9), "INR", "no rate quoted (N/A)"),
        *[
            (4000 + column, datetime.date(2025, 1, 7), currency, "no USD rate quoted that day (N/A)")
            for column, currency in (
                (2, "EUR"),
                (3, "JPY"),
                (9, "GBP"),
                (27, "AUD"),
                (29, "CAD"),
                (30, "CNY"),
                (34, "INR"),
                (35, "KRW"),
            )
        ],
        (6035, datetime.date(2025, 1, 3), "KRW", "no rate quoted (N/A)"),
    ]
    assert typed[OUT_OF_SCOPE].null_count() == 54


def test_ecb_one_day_file_with_spaces_and_long_date():
    typed = _typed("eurofxref_daily.csv")
    assert typed[REJECT_REASON].null_count() == typed.height == 8
    assert typed["rate_date"].unique().to_list() == [datetime.date(2025, 1, 10)]
    cny = typed.filter(pl.col("currency") == "CNY").row(0, named=True)
    assert (cny["per_usd"], cny["_source_row"]) == (7.5546 / 1.0304, 1019)


def test_documented_layout_is_declared():
    typed = _typed("fx_traps.csv")
    assert typed["rate_source"].unique().to_list() == ["declared"]
    assert typed["_source_row"].to_list() == [1, 2, 3, 4, 5, 6, 7]


def test_usd_cell_that_is_not_a_number(tmp_path):
    lines = HIST.read_text().splitlines()
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(
        "\n".join([lines[0], lines[1].replace("2025-01-10,1.0304,", "2025-01-10,1.03O4,")]) + "\n"
    )
    typed = fx.normalise(fx.read(path))
    assert typed[REJECT_REASON].unique().to_list() == ["USD rate 1.03O4 is not a positive number"]
    assert typed[OUT_OF_SCOPE].null_count() == typed.height


def test_a_bad_date_is_quarantined_even_on_a_day_without_quotes(tmp_path):
    lines = HIST.read_text().splitlines()
    day = next(line for line in lines if line.startswith("2025-01-07,"))  # USD N/A that day
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text("\n".join([lines[0], day.replace("2025-01-07,", "2025-13-07,")]) + "\n")
    typed = fx.normalise(fx.read(path))
    assert typed[REJECT_REASON].unique().to_list() == ["date 2025-13-07 is not yyyy-mm-dd"]
    assert typed[OUT_OF_SCOPE].null_count() == typed.height


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "rates.csv",
            "day,ccy,rate\n2025-01-10,CNY,7.33\n",
            "rates.csv: missing required column(s) date, currency, per_usd; found day, ccy, rate; "
            "fx takes date,currency,per_usd or the ECB eurofxref-hist layout (Date,USD,JPY,…)",
        ),
        (
            "eurofxref-hist.zip",
            "PK",
            "eurofxref-hist.zip: unsupported file type '.zip'; "
            "fx takes .csv (unzip eurofxref-hist.zip first)",
        ),
    ],
)
def test_unreadable_files_name_the_file_and_the_problem(tmp_path, name: str, content: str, message: str):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SourceFileError) as raised:
        fx.read(path)
    assert str(raised.value) == message


def test_lands_ecb_slice_and_the_sample_with_the_gx_suite_passing(workspace):
    drop(workspace["inbox"], "fx", HIST, F / "eurofxref_daily.csv", SAMPLES / "fx" / "fx_rates_2020_2025.csv")
    report = ingest_source(fx.SPEC, inbox_dir=workspace["inbox"], lake_dir=workspace["lake"])
    counts = {
        load.source_file: (
            load.status,
            load.gx_success,
            load.rows_read,
            load.rows_landed,
            load.rows_quarantined,
            load.rows_out_of_scope,
        )
        for load in report.loads
    }
    assert counts == {
        "fx/eurofxref_hist_2025_slice.csv": ("landed", True, 64, 54, 0, 10),
        "fx/eurofxref_daily.csv": ("landed", True, 8, 8, 0, 0),
        "fx/fx_rates_2020_2025.csv": ("landed", True, 3132, 3132, 0, 0),
    }
    landed = pl.read_parquet(workspace["lake"] / "raw" / "fx" / "**" / "*.parquet")
    assert landed.group_by("rate_source").len().sort("rate_source").rows() == [
        ("declared", 3132),
        ("ecb_cross", 62),
    ]
    (hist_load,) = [load for load in report.loads if load.source_file.endswith("slice.csv")]
    assert hist_load.out_of_scope_reasons == {
        "no USD rate quoted that day (N/A)": 8,
        "no rate quoted (N/A)": 2,
    }
    assert hist_load.message == (
        "54 rows landed, 0 quarantined, 10 out of scope "
        "(no USD rate quoted that day (N/A): 8, no rate quoted (N/A): 2)"
    )
    assert not (workspace["lake"] / "quarantine" / "fx" / f"{hist_load.load_id}.parquet").exists()
    kept = pl.read_parquet(workspace["lake"] / "out_of_scope" / "fx" / f"{hist_load.load_id}.parquet")
    # each row out of scope keeps the cells it came from, once, with its reason
    assert kept.height == 10
    assert kept.filter(pl.col("_source_row") == 2034).select(
        "date", "currency", "ecb_quote", "ecb_usd_per_eur", "_out_of_scope"
    ).rows() == [("2025-01-09", "INR", "N/A", "1.0305", "no rate quoted (N/A)")]
