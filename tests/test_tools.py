"""The tools tree (tools/): the format writers reproduce the committed samples byte for byte and
their variants read alike in the product; tests do not depend on the benchmark."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from dagster_project.sources import census, comtrade
from tools.formats import census as census_format
from tools.formats import comtrade as comtrade_format
from tools.formats import fx as fx_format
from tools.formats import gacc as gacc_format
from tools.formats import prices as prices_format
from tools.formats import usgs as usgs_format

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


def test_tests_do_not_import_the_benchmark():
    pattern = re.compile(r"^\s*(from|import)\s+(bench|tools\.bench)\b", re.MULTILINE)
    importing = [
        p.name for p in (ROOT / "tests").glob("*.py") if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert importing == []


@pytest.mark.parametrize(
    "name",
    [
        "us_imports_annual_2020_2024.json",
        "china_exports_monthly_2023_2025.json",
        "us_reimports_sample_2024.json",
    ],
)
def test_comtrade_payload_writer_reproduces_the_sample(name: str):
    data = (SAMPLES / "comtrade" / name).read_bytes()
    parsed = json.loads(data)
    assert list(parsed["data"][0]) == comtrade_format.FIELDS
    assert comtrade_format.payload(parsed["data"], parsed["elapsedTime"]) == data


@pytest.mark.parametrize("name", ["us_imports_2025.json", "us_exports_2025.json"])
def test_census_writer_reproduces_the_sample(name: str):
    data = (SAMPLES / "census" / name).read_bytes()
    table = json.loads(data)
    assert table[0] in (census_format.IMPORT_HEADER, census_format.EXPORT_HEADER)
    assert census_format.table_bytes(table) == data


def _csv_rows(data: bytes, encoding: str) -> tuple[list[str], list[list[str]]]:
    header, *rows = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
    return header, rows


def test_csv_writers_reproduce_the_samples():
    gacc = SAMPLES / "gacc" / "exports" / "china_exports_2025_03.csv"
    usgs, prices = (
        SAMPLES / "usgs" / "mcs2025_rare_earths.csv",
        SAMPLES / "prices" / "benchmark_prices_2020_2025.csv",
    )
    cases = [
        (gacc, gacc_format.csv_bytes, gacc_format.HEADER, "gbk"),
        (usgs, usgs_format.csv_bytes, usgs_format.HEADER, "cp1252"),
        (prices, prices_format.csv_bytes, prices_format.HEADER, "utf-8"),
        (SAMPLES / "fx" / "fx_rates_2020_2025.csv", fx_format.csv_bytes, fx_format.HEADER, "utf-8"),
    ]
    for path, writer, header, encoding in cases:
        data = path.read_bytes()
        read_header, rows = _csv_rows(data, encoding)
        assert read_header == header, path.name
        assert writer(rows) == data, path.name
    assert gacc_format.grouped(141_936_194.4) == "141,936,194"


def test_comtrade_payload_variants_read_alike(tmp_path: Path):
    records = json.loads((SAMPLES / "comtrade" / "us_reimports_sample_2024.json").read_bytes())["data"]
    frames = []
    for index, options in enumerate([{}, {"compact": False}, {"compact": False, "error_key": False}]):
        path = comtrade_format.write_payload(
            tmp_path / f"payload_{index}.json", records, "0.1 secs", **options
        )
        frames.append(comtrade.normalise(comtrade.read(path)))
    assert frames[0].height == len(records) == 10
    assert frames[1].equals(frames[0]) and frames[2].equals(frames[0])


def test_census_table_variants_read_alike(tmp_path: Path):
    table = json.loads((SAMPLES / "census" / "us_exports_2025.json").read_bytes())[:25]
    frames = []
    for index, options in enumerate([{}, {"compact": False}, {"final_newline": True}]):
        path = census_format.write(tmp_path / f"census_exports_{index}.json", table, **options)
        frames.append(census.normalise(census.read(path)))
    assert frames[0].height == 24
    assert frames[1].equals(frames[0]) and frames[2].equals(frames[0])
