"""docs/bi.md holds: every example query runs, through the connection path Superset uses, against a
serving file built from the samples, and returns rows; every published column has a BI-safe type.

The serving file is built once for the module by the real job (`materialize_everything`) into a
temporary REE_DATA_DIR, as tests/test_pipeline.py does.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from conftest import REPO

BI_DOCS = REPO / "docs" / "bi.md"
SQL_BLOCK = re.compile(r"^```sql[ \t]*\n(.*?)^```[ \t]*$", flags=re.DOTALL | re.MULTILINE)
# Types BI drivers mishandle (JDBC/ODBC, Superset, Metabase, Power BI): 128-bit and unsigned integers,
# UUID, INTERVAL and the time-zone types; DECIMAL wider than 18 digits is HUGEINT-backed.
UNSAFE_TYPE = re.compile(
    r"\b(U?HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UVARINT|UUID|INTERVAL|"
    r"TIME WITH TIME ZONE|TIMESTAMP WITH TIME ZONE|TIMETZ|TIMESTAMPTZ)\b",
    flags=re.IGNORECASE,
)
WIDE_DECIMAL = re.compile(r"\bDECIMAL\((\d+)\s*,\s*\d+\)", flags=re.IGNORECASE)


def unsafe(data_type: str) -> bool:
    wide = any(int(width) > 18 for width in WIDE_DECIMAL.findall(data_type))
    return wide or UNSAFE_TYPE.search(data_type) is not None


def doc_queries() -> list[str]:
    return [block.strip().rstrip(";").strip() for block in SQL_BLOCK.findall(BI_DOCS.read_text("utf-8"))]


def _first_line(sql: str) -> str:
    return next((line for line in sql.splitlines() if line.strip()), sql)[:80]


@pytest.fixture(scope="module")
def serving_file(samples_state: Path) -> Path:
    """The serving file of one real run over the shipped samples, on the path `make run` takes:
    `python -m dagster_project.run` with a persistent DAGSTER_HOME made from deploy/dagster.yaml
    (conftest.samples_state, shared with test_pipeline; read-only here)."""
    path = samples_state / "data" / "serving" / "ree.duckdb"
    assert path.is_file(), (
        f"the samples run did not publish:\n{(samples_state / 'run.log').read_text()[-3000:]}"
    )
    return path


@pytest.fixture(scope="module")
def superset_engine(serving_file: Path):
    """Superset's path: a duckdb-engine URI and engine parameters {"connect_args": {"read_only": true}}."""
    # Superset also passes poolclass=NullPool (a new connection per query), which lets the plain
    # duckdb connections of the other tests open the same file between queries.
    engine = sa.create_engine(
        "duckdb:///" + str(serving_file), connect_args={"read_only": True}, poolclass=sa.pool.NullPool
    )
    yield engine
    engine.dispose()


def test_docs_have_the_example_queries():
    queries = doc_queries()
    # One or two per question the marts answer (flows, controls, USGS, reconciled, load log).
    assert 5 <= len(queries) <= 12, f"docs/bi.md should hold 5-12 example queries, found {len(queries)}"
    text = "\n".join(queries)
    for table in (
        "marts.mart_china_exports_by_stage",
        "marts.mart_supplier_concentration",
        "marts.mart_mirror_flows",
        "marts.mart_export_control_exposure",
        "marts.mart_unit_value_vs_price",
        "marts.fct_usgs_statistics",
        "audit.load_log",
    ):
        assert table in text, f"no example query reads {table}"
    assert all(";" not in query for query in queries), "one statement per ```sql block"


def test_docs_point_every_tool_at_the_serving_file():
    text = BI_DOCS.read_text("utf-8")
    for setting in (
        "duckdb -readonly data/serving/ree.duckdb",
        'duckdb.connect("data/serving/ree.duckdb", read_only=True)',
        "duckdb:////abs/path/data/serving/ree.duckdb",
        '{"connect_args": {"read_only": true}}',
        "access_mode=read_only",
        "filename: ree.duckdb",
    ):
        assert setting in text, f"docs/bi.md lacks {setting!r}"
    tool_sections = text.split("## DuckDB CLI", 1)[1].split("## Measured", 1)[0]
    files = set(re.findall(r"([\w.-]+\.duckdb)\b", tool_sections))
    assert files == {"ree.duckdb"}, f"every connection must open the serving file, found {files}"


@pytest.mark.parametrize("index", range(len(doc_queries())), ids=lambda i: f"query{i + 1}")
def test_doc_query_runs_through_superset_path_and_returns_rows(superset_engine, index: int):
    sql = doc_queries()[index]
    with superset_engine.connect() as connection:
        result = connection.exec_driver_sql(sql)
        columns = list(result.keys())
        rows = result.fetchall()
    assert rows, f"query {index + 1} ({_first_line(sql)}) returned no rows"
    assert len(columns) == len(set(columns)), "duplicate column names confuse BI tools"


def test_doc_query_result_types_are_bi_safe(serving_file: Path):
    con = duckdb.connect(str(serving_file), read_only=True)
    try:
        for index, sql in enumerate(doc_queries(), start=1):
            described = con.execute(f"describe {sql}").fetchall()
            bad = [(name, kind) for name, kind, *_ in described if unsafe(kind)]
            assert bad == [], f"query {index} ({_first_line(sql)}) returns BI-unsafe types: {bad}"
    finally:
        con.close()


def test_superset_connection_is_read_only(superset_engine):
    with superset_engine.connect() as connection:
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):
            connection.exec_driver_sql("create table marts.scratch (x integer)")


def test_every_published_column_has_a_bi_safe_type(serving_file: Path):
    con = duckdb.connect(str(serving_file), read_only=True)
    try:
        columns = con.execute(
            "select schema_name, table_name, column_name, data_type from duckdb_columns() "
            "where database_name = current_database() order by 1, 2, 3"
        ).fetchall()
    finally:
        con.close()
    tables = {(schema, table) for schema, table, _, _ in columns}
    assert ("marts", "fct_trade_flows") in tables and ("audit", "load_log") in tables
    bad = [f"{schema}.{table}.{column}: {kind}" for schema, table, column, kind in columns if unsafe(kind)]
    assert bad == [], "BI-unsafe column types in the serving file:\n" + "\n".join(bad)


def test_unsafe_type_patterns():
    for kind in (
        "HUGEINT",
        "UHUGEINT",
        "UBIGINT",
        "UINTEGER",
        "USMALLINT",
        "UTINYINT",
        "UUID",
        "INTERVAL",
        "TIME WITH TIME ZONE",
        "TIMESTAMP WITH TIME ZONE",
        "DECIMAL(38,2)",
        "STRUCT(a HUGEINT)",
        "UUID[]",
    ):
        assert unsafe(kind), kind
    for kind in ("BIGINT", "INTEGER", "DOUBLE", "DECIMAL(18,3)", "VARCHAR", "DATE", "TIMESTAMP", "BOOLEAN"):
        assert not unsafe(kind), kind


# --- Every BI tool: DuckDB 1.x, another file name or alias, Parquet --------------------------------

DUCKDB_1X = "duckdb==1.4.*"
# A small virtual environment with a DuckDB 1.x client, as BI drivers ship it; made once (uv, from
# the package registry) and kept in a git-ignored folder so later runs reuse it.
DUCKDB_1X_ENV = REPO / ".cache" / "duckdb-1.4"
CLIENT_1X = """
import json, sys
import duckdb
path, queries = sys.argv[1], json.loads(sys.stdin.read())
con = duckdb.connect(path, read_only=True)
out = {"version": duckdb.__version__, "results": []}
for sql in queries:
    rows = con.execute(sql).fetchall()
    out["results"].append({"rows": len(rows), "first": repr(rows[0]) if rows else None})
try:
    con.execute("create table marts.scratch (x integer)")
    out["write"] = "allowed"
except Exception as error:
    out["write"] = str(error)
con.close()
print(json.dumps(out))
"""


def duckdb_1x_python() -> Path:
    python = DUCKDB_1X_ENV / "bin" / "python"
    probe = [str(python), "-c", "import duckdb; print(duckdb.__version__)"]
    if python.is_file() and subprocess.run(probe, capture_output=True, text=True).stdout.startswith("1.4"):
        return python
    shutil.rmtree(DUCKDB_1X_ENV, ignore_errors=True)
    uv = [sys.executable, "-m", "uv"] if shutil.which("uv") is None else ["uv"]
    subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(DUCKDB_1X_ENV)], check=True)
    subprocess.run(
        [*uv, "pip", "install", "--quiet", "--python", str(python), DUCKDB_1X], check=True, timeout=600
    )
    return python


def test_a_duckdb_1x_client_answers_every_doc_query(serving_file: Path):
    python = duckdb_1x_python()
    queries = doc_queries()
    done = subprocess.run(
        [str(python), "-c", CLIENT_1X, str(serving_file)],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["version"].startswith("1.4"), out["version"]
    con = duckdb.connect(str(serving_file), read_only=True)
    try:
        expected = [con.execute(sql).fetchall() for sql in queries]
    finally:
        con.close()
    for index, (answer, rows) in enumerate(zip(out["results"], expected, strict=True), start=1):
        assert answer["rows"] == len(rows) > 0, f"query {index}: DuckDB 1.4 gave {answer['rows']} rows"
        assert answer["first"] == repr(rows[0]), f"query {index}: DuckDB 1.4 read other values"
    assert "read-only" in out["write"], out["write"]


def test_the_marts_resolve_under_any_file_name_and_alias(serving_file: Path, tmp_path: Path):
    con = duckdb.connect(str(serving_file), read_only=True)
    try:
        rows = con.execute("select count(*) from marts.fct_trade_flows").fetchall()[0][0]
        loads = con.execute("select count(*) from audit.load_log").fetchall()[0][0]
    finally:
        con.close()
    assert rows > 0 and loads > 0
    copy = tmp_path / "supply chain.duckdb"
    shutil.copy(serving_file.resolve(), copy)  # the link's target, as `cp -L` copies it
    con = duckdb.connect(str(copy), read_only=True)
    try:
        assert con.execute("select count(*) from marts.fct_trade_flows").fetchall()[0][0] == rows
        assert con.execute("select count(*) from audit.load_log").fetchall()[0][0] == loads
    finally:
        con.close()
    con = duckdb.connect()
    try:
        for alias in ("serving", "ree", "bi"):
            con.execute(f"attach '{serving_file}' as {alias} (read_only)")
            found = con.execute(f"select count(*) from {alias}.marts.fct_trade_flows").fetchall()[0][0]  # noqa: S608
            assert found == rows, alias
            con.execute(f"detach {alias}")
    finally:
        con.close()


def test_parquet_marts_hold_the_rows_of_the_duckdb_marts(serving_file: Path):
    serving_dir = serving_file.parent
    manifest = json.loads((serving_dir / "manifest.json").read_text("utf-8"))
    con = duckdb.connect(str(serving_file), read_only=True)
    try:
        build_id = con.execute("select build_id from audit.publish_info").fetchall()[0][0]
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in ('marts', 'audit') "
            "order by 1, 2"
        ).fetchall()
        assert manifest["build_id"] == build_id, "manifest and DuckDB file from different builds"
        listed = {(t["schema"], t["table"]) for t in manifest["tables"]}
        assert listed == {t for t in tables if t != ("audit", "publish_info")}
        names = {t["table"] for t in manifest["tables"] if t["schema"] == "marts"}
        assert {"fct_trade_flows", "fct_element_flows", "mart_mirror_flows", "dim_country"} <= names
        for entry in manifest["tables"]:
            name = f"{entry['schema']}.{entry['table']}"
            files = str(serving_dir / "current" / entry["parquet"] / "**" / "*.parquet")
            parquet = f"read_parquet('{files}', hive_partitioning = false)"
            count = con.execute(f"select count(*) from {parquet}").fetchall()[0][0]  # noqa: S608
            assert count == entry["rows"] == con.execute(f"select count(*) from {name}").fetchall()[0][0]  # noqa: S608
            for left, right in ((name, parquet), (parquet, name)):
                extra = con.execute(
                    f"select count(*) from (select * from {left} except all select * from {right})"  # noqa: S608
                ).fetchall()[0][0]
                assert extra == 0, f"{name}: {extra} rows of {left} are not in {right}"
            types = con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where schema_name = ? and table_name = ? order by column_index",
                [entry["schema"], entry["table"]],
            ).fetchall()
            assert [(c["name"], c["type"]) for c in entry["columns"]] == types, name
            in_parquet = con.execute(f"describe select * from {parquet}").fetchall()  # noqa: S608
            assert [(n, t) for n, t, *_ in in_parquet] == types, f"{name}: Parquet changed a column type"
        partitioned = next(t for t in manifest["tables"] if t["table"] == "fct_trade_flows")
        assert partitioned["partitioned_by"] == ["year"]
        years = {p.name for p in (serving_dir / "parquet" / "fct_trade_flows").iterdir()}
        expected = {
            f"year={y}" for (y,) in con.execute("select distinct year from marts.fct_trade_flows").fetchall()
        }
        assert years == expected
        assert manifest["source_loads"] and all(load["load_id"] for load in manifest["source_loads"])
    finally:
        con.close()


# Evidence (a BI tool from npm) through its own DuckDB connector, which bundles a DuckDB 1.4 build
# (@duckdb/node-api 1.4.x): the call `npm run sources` makes for each query of a dashboard.
EVIDENCE_CONNECTOR = "@evidence-dev/duckdb@2.0.1"
EVIDENCE_DIR = REPO / ".cache" / "evidence"
EVIDENCE_SCRIPT = """
const runQuery = require('@evidence-dev/duckdb');
const queries = JSON.parse(require('fs').readFileSync(0, 'utf-8'));
(async () => {
  const out = [];
  for (const sql of queries) {
    const result = await runQuery(sql, { filename: process.argv[2] });
    let rows = [];
    for await (const batch of result.rows()) rows = rows.concat(batch);
    out.push({ rows: rows.length, columns: (result.columnTypes || []).map((c) => c.name) });
  }
  const version = require('@duckdb/node-api/package.json').version;
  console.log(JSON.stringify({ version, out }));
})().catch((error) => { console.error(String(error)); process.exit(1); });
"""


def evidence_connector() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the DuckDB 1.4 Python client test is the proof")
    script = EVIDENCE_DIR / "run_queries.cjs"
    if not (EVIDENCE_DIR / "node_modules" / "@evidence-dev" / "duckdb").is_dir():
        EVIDENCE_DIR.mkdir(parents=True, exist_ok=True)
        (EVIDENCE_DIR / "package.json").write_text('{"private": true}\n', "utf-8")
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", EVIDENCE_CONNECTOR],
            cwd=EVIDENCE_DIR,
            check=True,
            timeout=600,
        )
    script.write_text(EVIDENCE_SCRIPT, "utf-8")
    return script


def test_evidence_connector_answers_every_doc_query(serving_file: Path):
    script = evidence_connector()
    queries = doc_queries()
    done = subprocess.run(
        ["node", str(script), str(serving_file)],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert answer["version"].startswith("1."), f"Evidence's DuckDB is {answer['version']}"
    con = duckdb.connect(str(serving_file), read_only=True)
    try:
        for index, (sql, got) in enumerate(zip(queries, answer["out"], strict=True), start=1):
            result = con.execute(sql)
            columns = [column[0] for column in result.description]
            rows = result.fetchall()
            assert got["rows"] == len(rows) > 0, f"query {index}: Evidence read {got['rows']} rows"
            assert got["columns"] == columns, f"query {index}"
    finally:
        con.close()
