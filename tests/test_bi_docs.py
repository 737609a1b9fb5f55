"""docs/bi.md holds: every example query runs, through the connection path Superset uses, against a
serving file built from the samples, and returns rows; every published column has a BI-safe type.

The serving file is built once for the module by the real job (`materialize_everything`) into a
temporary REE_DATA_DIR, as tests/test_pipeline.py does.
"""

import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa
from conftest import REPO, SAMPLES

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
def serving_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The serving file of one real run over the shipped samples."""
    from dagster_project.definitions import defs

    data = tmp_path_factory.mktemp("bi_docs") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REE_INBOX_DIR", str(SAMPLES))
        patch.setenv("REE_DATA_DIR", str(data))
        patch.delenv("DAGSTER_HOME", raising=False)
        result = defs.resolve_job_def("materialize_everything").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
    path = data / "serving" / "marts.duckdb"
    failed = [event.step_key for event in result.get_step_failure_events()]
    assert result.success and path.is_file(), f"the samples run did not publish (failed steps: {failed})"
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
    assert 5 <= len(queries) <= 8, f"docs/bi.md should hold 5-8 example queries, found {len(queries)}"
    text = "\n".join(queries)
    for table in (
        "marts.mart_china_exports_by_stage",
        "marts.mart_supplier_concentration",
        "marts.mart_mirror_flows",
        "marts.mart_export_control_exposure",
        "marts.mart_unit_value_vs_price",
        "audit.load_log",
    ):
        assert table in text, f"no example query reads {table}"
    assert all(";" not in query for query in queries), "one statement per ```sql block"


def test_docs_point_every_tool_at_the_serving_file():
    text = BI_DOCS.read_text("utf-8")
    for setting in (
        "duckdb -readonly data/serving/marts.duckdb",
        'duckdb.connect("data/serving/marts.duckdb", read_only=True)',
        "duckdb:////abs/path/data/serving/marts.duckdb",
        '{"connect_args": {"read_only": true}}',
        "access_mode=read_only",
        "filename: marts.duckdb",
    ):
        assert setting in text, f"docs/bi.md lacks {setting!r}"
    tool_sections = text.split("## DuckDB CLI", 1)[1]
    files = set(re.findall(r"([\w.-]+\.duckdb)\b", tool_sections))
    assert files == {"marts.duckdb"}, f"every connection must open the serving file, found {files}"


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
            connection.exec_driver_sql("create table marts.main.scratch (x integer)")


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
    assert ("main", "fct_trade_flows") in tables and ("audit", "load_log") in tables
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
