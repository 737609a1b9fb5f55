"""Security basics: keys only from the environment and never shown; no unvalidated SQL text; BI
tools are pointed only at the serving file, read-only.

(a) A key is planted in COMTRADE_API_KEY and CENSUS_API_KEY, and the two pull assets run through
    Dagster (`dg.materialize`) against an httpx MockTransport that succeeds, refuses, fails, times
    out and echoes the key back. The test proves the key reached the API (header or query
    parameter), then looks for it in everything a person or a tool can see: Python logs at DEBUG
    (httpx logs every URL), stdout/stderr, every Dagster event and event-log entry (errors with
    their causes and stack, asset metadata), the saved payload and its request record.
(b) A static audit of every `execute(`/`sql(` call in dagster_project (and of functions that pass
    their argument on to one): the SQL text may be a literal, or an f-string whose every
    interpolation goes through an allow-listed validating helper (lib/sql.py), or
    a name built that way in the same function. Anything else fails, except the waivers listed
    with their reason.
(c) README.md and docs/*.md never give `warehouse.duckdb` in a connection string, and every
    connection they show opens `ree.duckdb` read-only.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest
from conftest import FIXTURES, REPO

from dagster_project.ingest.pulls import census_api_pull, comtrade_api_pull
from dagster_project.lib import http
from dagster_project.settings import api_key

COMTRADE_KEY = "ctk-PLANTED-5f0e1d2c3b4a69788796a5b4"
CENSUS_KEY = "cnk-PLANTED-0a1b2c3d4e5f60718293a4b5"
KEYS = (COMTRADE_KEY, CENSUS_KEY)
COMTRADE_PAYLOAD = (FIXTURES / "comtrade" / "china_exports_2024_monthly_and_annual.json").read_bytes()
CENSUS_PAYLOAD = (FIXTURES / "census" / "api" / "imports_2846_2025-03.json").read_bytes()
CENSUS_CONFIG = {"ops": {"census_api_pull": {"config": {"flows": ["import"], "commodities": ["2846*"]}}}}
PARTITION = "2025-03-01"

Handler = Callable[[httpx.Request], httpx.Response]


def _echo(request: httpx.Request) -> str:
    """What a careless server or proxy sends back: the URL and headers it received, key included."""
    return f"request {request.url} with headers {dict(request.headers)}"


def _refuse(status: int) -> Handler:
    return lambda request: httpx.Response(status, text="denied: " + _echo(request))


def _busy(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, headers={"Retry-After": "0"}, text="busy: " + _echo(request))


def _network_down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused: " + _echo(request), request=request)


def _html(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text=f"<html><body>Invalid key {_echo(request)}</body></html>")


def _not_json(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="oops " + _echo(request))


def _error_field(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"data": [], "error": _echo(request)})


def _no_data_list(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"message": _echo(request)})


def _census_error_line(request: httpx.Request) -> httpx.Response:
    return httpx.Response(400, text=f"error: unknown variable 'FOO' in {request.url}")


# (asset, scenario name, handler, does the run succeed, a phrase its outcome must contain)
SCENARIOS = [
    (comtrade_api_pull, "ok", lambda r: httpx.Response(200, content=COMTRADE_PAYLOAD), True, ""),
    (comtrade_api_pull, "401", _refuse(401), False, "Comtrade refused the call (401)"),
    (comtrade_api_pull, "404", _refuse(404), False, "Comtrade answered HTTP 404"),
    (comtrade_api_pull, "503", _busy, False, "still answered HTTP 503 after 5 attempts"),
    (comtrade_api_pull, "network", _network_down, False, "network error calling"),
    (comtrade_api_pull, "html", _html, False, "Comtrade returned an HTML page"),
    (comtrade_api_pull, "not-json", _not_json, False, "Comtrade returned invalid JSON"),
    (comtrade_api_pull, "error-field", _error_field, False, "Comtrade reported an error"),
    (comtrade_api_pull, "no-data-list", _no_data_list, False, "Comtrade returned no data list"),
    (census_api_pull, "ok", lambda r: httpx.Response(200, content=CENSUS_PAYLOAD), True, ""),
    (census_api_pull, "400", _census_error_line, False, "HTTP 400: error: unknown variable"),
    (census_api_pull, "403", _refuse(403), False, "HTTP 403"),
    (census_api_pull, "503", _busy, False, "still answered HTTP 503 after 5 attempts"),
    (census_api_pull, "network", _network_down, False, "network error calling"),
    (census_api_pull, "html", _html, False, "the response is an HTML page"),
    (census_api_pull, "not-json", _not_json, False, "the response is not JSON"),
]


def _blobs(result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance) -> Iterator[tuple[str, str]]:
    """Everything Dagster recorded for the run, as text: events (errors with cause, context and
    stack; materializations with their metadata) and every event-log entry."""
    for event in result.all_events:
        yield f"event {event.event_type_value}", dg.serialize_value(event)
    for entry in instance.all_logs(result.run_id):
        yield f"log {entry.dagster_event_type or 'message'}", dg.serialize_value(entry)
    for key in (comtrade_api_pull.key, census_api_pull.key):
        materialization = instance.get_latest_materialization_event(key)
        if materialization is not None:
            yield f"metadata {key.to_user_string()}", dg.serialize_value(materialization)


@pytest.mark.parametrize(
    ("asset", "handler", "succeeds", "phrase"),
    [(a, h, s, p) for a, _, h, s, p in SCENARIOS],
    ids=[f"{a.key.to_user_string()}-{name}" for a, name, *_ in SCENARIOS],
)
def test_a_planted_key_is_sent_but_never_shown(
    workspace, monkeypatch, caplog, capfd, asset, handler, succeeds, phrase
):
    monkeypatch.setenv("COMTRADE_API_KEY", COMTRADE_KEY)
    monkeypatch.setenv("CENSUS_API_KEY", CENSUS_KEY)
    monkeypatch.setattr(http, "_wait", lambda retry_state: 0)  # retries without the real backoff
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    real_client = httpx.Client

    def client_with_mock_transport(*args, **kwargs) -> httpx.Client:
        kwargs["transport"] = httpx.MockTransport(recording)
        return real_client(*args, **kwargs)

    monkeypatch.setattr(httpx, "Client", client_with_mock_transport)
    caplog.set_level(logging.DEBUG)
    run_config = CENSUS_CONFIG if asset is census_api_pull else None

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [asset], partition_key=PARTITION, instance=instance, run_config=run_config, raise_on_error=False
    )
    blobs = list(_blobs(result, instance))

    # The keys came from the environment and reached the API, where they belong.
    assert seen, "the pull never called the (mock) API"
    if asset is comtrade_api_pull:
        assert all(r.headers.get("Ocp-Apim-Subscription-Key") == COMTRADE_KEY for r in seen)
    else:
        assert all(r.url.params.get("key") == CENSUS_KEY for r in seen)

    # The run did what the scenario says, so the places searched below hold its real output.
    assert result.success is succeeds
    failures = [e.event_specific_data.error.to_string() for e in result.get_step_failure_events()]
    if succeeds:
        assert any(label.startswith("metadata") for label, _ in blobs)
    else:
        assert len(failures) == 1 and phrase in failures[0], failures

    captured = capfd.readouterr()
    places = [
        ("python logs", "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)),
        ("stdout", captured.out),
        ("stderr", captured.err),
        *blobs,
        *[(f"failure {n}", text) for n, text in enumerate(failures)],
        *[
            (f"file {path.name}", path.read_text("utf-8", errors="replace"))
            for path in (workspace["data"] / "pulled").rglob("*")
            if path.is_file()
        ],
    ]
    assert "STEP_START" in captured.err + captured.out, "Dagster's console log was not captured"
    if handler is not _network_down:
        assert any("HTTP Request" in text for _, text in places), "httpx's request log was not captured"
    for key in KEYS:
        leaks = [label for label, text in places if key in text]
        assert not leaks, f"the planted key shows in: {', '.join(leaks)}"


def test_keys_come_only_from_the_environment(monkeypatch):
    monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
    assert api_key("COMTRADE_API_KEY") is None
    monkeypatch.setenv("COMTRADE_API_KEY", "")
    assert api_key("COMTRADE_API_KEY") is None
    monkeypatch.setenv("COMTRADE_API_KEY", COMTRADE_KEY)
    assert api_key("COMTRADE_API_KEY") == COMTRADE_KEY
    # Nowhere else in the code is a key read: no file, no default, no literal.
    code = {path: path.read_text("utf-8") for path in (REPO / "dagster_project").rglob("*.py")}
    readers = sorted(
        f"{path.relative_to(REPO)}: {match.group(0)}"
        for path, text in code.items()
        for match in re.finditer(r"(?:os\.environ|getenv)[^\n]*_API_KEY[^\n]*", text)
    )
    assert readers == [], "keys are read through settings.api_key only"
    uses = sorted(
        match.group(0) for text in code.values() for match in re.finditer(r"api_key\(\"[A-Z_]+\"\)", text)
    )
    assert set(uses) == {'api_key("COMTRADE_API_KEY")', 'api_key("CENSUS_API_KEY")'}


def test_redaction_covers_query_parameters_and_known_values():
    url = f"https://api.census.gov/data/x?get=A&key={CENSUS_KEY}&time=2025-03"
    assert http.redact(url) == "https://api.census.gov/data/x?get=A&key=***&time=2025-03"
    assert CENSUS_KEY not in http.redact(f"echo {CENSUS_KEY}", CENSUS_KEY)
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: GET %s", (url,), None)
    assert http.RedactingFilter().filter(record) and CENSUS_KEY not in record.getMessage()


# --- (b) SQL text is never built from unvalidated input ---------------------------------------------

# Helpers that validate or quote what they are given: their result may be interpolated into SQL.
SQL_SAFE_HELPERS = {"identifier", "literal", "data_type"}
# Calls that run SQL text: `con.execute(sql, …)`, `con.sql(sql)`, `duckdb.sql(sql)`, …
SQL_SINKS = {"execute", "executemany", "sql", "query"}
# (file, function, interpolated name): why it is safe without a helper.
WAIVERS = {
    ("dagster_project/serving/report/panels.py", "_mart_problem", "table"): (
        "`chart.mart`, a code constant of the chart table, and found in duckdb_columns() by a bound "
        "parameter (`table_name = ?`) just before"
    ),
}


class _Audit(ast.NodeVisitor):
    """Finds SQL sinks whose text is not a literal or built only from allow-listed helpers."""

    def __init__(self, path: str, tree: ast.Module):
        self.path = path
        self.tree = tree
        self.problems: list[str] = []
        self.function: ast.FunctionDef | None = None
        # Functions of this module that pass a parameter on to a sink: name → parameter position.
        self.wrappers: dict[str, int] = {}

    def _assignments(self, name: str) -> list[ast.expr]:
        scope = self.function or self.tree
        values = []
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets
            ):
                values.append(node.value)
            elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
                if node.target.id == name and node.value is not None:
                    values.append(node.value)
        return values

    def _unsafe(self, expr: ast.expr, seen: frozenset[str] = frozenset()) -> list[str]:
        """The names that make `expr` unsafe SQL text (empty: safe)."""
        if isinstance(expr, ast.Constant):
            return []
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id in SQL_SAFE_HELPERS
        ):
            return []
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "join"
            and isinstance(expr.func.value, ast.Constant)
            and len(expr.args) == 1
            and isinstance(expr.args[0], ast.GeneratorExp | ast.ListComp)
        ):
            # `", ".join(<element> for …)`: safe when the element is (its loop names are not).
            return self._unsafe(expr.args[0].elt, seen)
        if isinstance(expr, ast.JoinedStr):
            return [n for part in expr.values for n in self._unsafe(part, seen)]
        if isinstance(expr, ast.FormattedValue):
            return self._unsafe(expr.value, seen)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return self._unsafe(expr.left, seen) + self._unsafe(expr.right, seen)
        if isinstance(expr, ast.Name):
            # A name is safe when every value assigned to it in this function is safe SQL text.
            values = self._assignments(expr.id)
            if expr.id in seen or not values or any(self._unsafe(v, seen | {expr.id}) for v in values):
                return [expr.id]
            return []
        # `%` formatting, `.format(...)`, attributes, subscripts, other calls: not provably safe.
        return [ast.unparse(expr)]

    def _parameters(self) -> list[str]:
        if self.function is None:
            return []
        return [a.arg for a in self.function.args.posonlyargs + self.function.args.args]

    def _check(self, call: ast.Call, position: int) -> None:
        if len(call.args) <= position:
            return
        text = call.args[position]
        if isinstance(text, ast.Name) and text.id in self._parameters() and not self._assignments(text.id):
            # The SQL comes from the caller: every call of this function is checked instead.
            assert self.function is not None
            self.wrappers[self.function.name] = self._parameters().index(text.id)
            return
        function = self.function.name if self.function else "<module>"
        for name in self._unsafe(text):
            if (self.path, function, name) in WAIVERS:
                continue
            self.problems.append(f"{self.path}:{call.lineno} in {function}(): SQL text interpolates {name!r}")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self.function = self.function, node
        self.generic_visit(node)
        self.function = outer

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in SQL_SINKS:
            self._check(node, 0)
        elif isinstance(func, ast.Name) and func.id in self.wrappers:
            self._check(node, self.wrappers[func.id])
        self.generic_visit(node)


def sql_audit(path: Path, root: Path = REPO) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    audit = _Audit(path.relative_to(root).as_posix(), tree)
    # Twice: the first pass finds the wrapper functions, the second checks their callers too.
    for _ in range(2):
        audit.problems = []
        audit.visit(tree)
    return audit.problems


def test_sql_text_is_built_only_from_literals_and_validated_identifiers():
    problems = [p for path in sorted((REPO / "dagster_project").rglob("*.py")) for p in sql_audit(path)]
    assert problems == []


def test_the_sql_audit_catches_interpolation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def load(con, path, partition):\n"
        "    con.execute(f\"select * from read_parquet('{path}')\")\n"
        "    con.sql(\"delete from t where p = '%s'\" % partition)\n"
        '    con.execute("select {}".format(partition))\n'
        "    query = f\"select * from t where p = '{partition}'\"\n"
        "    con.execute(query)\n"
        "    run(con, 'select ' + partition)\n"
        "    for table in partition:\n"
        "        con.execute(f'select count(*) from {table}')\n"
        "    name = identifier(partition)\n"
        "    con.execute(f'select * from {name} where x = ?', [path])\n"
        "    con.execute(f'attach {literal(path)} as w (read_only)')\n"
        "    typed = ', '.join(f'{identifier(c)} {data_type(t)}' for c, t in path)\n"
        "    con.execute(f'create table t ({typed})')\n"
        "    columns = ', '.join(f'{c} {t}' for c, t in path)\n"
        "    con.execute(f'create table t ({columns})')\n"
        "def run(con, sql):\n"
        "    return con.execute(sql)\n"
    )
    assert [p.split(": ", 1)[1] for p in sql_audit(bad, root=tmp_path)] == [
        "SQL text interpolates 'path'",
        "SQL text interpolates '\"delete from t where p = \\'%s\\'\" % partition'",
        "SQL text interpolates \"'select {}'.format(partition)\"",
        "SQL text interpolates 'query'",
        "SQL text interpolates 'partition'",
        "SQL text interpolates 'table'",
        "SQL text interpolates 'columns'",
    ]


def test_the_allow_listed_helpers_validate_and_quote():
    from dagster_project.lib.sql import data_type, identifier, literal

    assert identifier("fct_trade_flows") == '"fct_trade_flows"'
    assert identifier("share_of_world") == '"share_of_world"'
    for hostile in ('x"; drop table t; --', "Robert'); drop", "a b", "", "UPPER"):
        with pytest.raises(ValueError):
            identifier(hostile)
    assert literal("it's; drop table t; --") == "'it''s; drop table t; --'"
    assert literal("o'clock") == "'o''clock'"
    for typed in ("varchar", "DOUBLE", "decimal(18, 3)", "decimal(18,3)", "timestamp with time zone"):
        assert data_type(typed) == typed
    for hostile in ("int); drop table t; --", "varchar'", "int -- x", ""):
        with pytest.raises(ValueError):
            data_type(hostile)


# --- (c) BI tools open only the serving file, read-only ---------------------------------------------

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# What a connection string looks like in the docs: a Python connect, a SQLAlchemy/JDBC URI, an ODBC
# Database=, the DuckDB CLI, an ATTACH, an Evidence `filename:`, a file path typed into a BI form.
CONNECTION = re.compile(
    r"duckdb\.connect\([^)]*\)"
    r"|(?:jdbc:)?duckdb:/+[^\s`'\"]+"
    r"|Database=[^\s`;]+[^\s`]*"
    r"|(?<![.\w/{])(?-i:duckdb)\s+(?:-\w+\s+)*[^\s`]+\.duckdb"
    r"|attach\s+'[^']+'"
    r"|filename:\s*\S+"
    r"|\|\s*(?:Database file|Database name \(path\)|URL|SQLAlchemy URI)\s*\|[^\n]*",
    flags=re.IGNORECASE,
)
READ_ONLY = re.compile(r"read_only=True|access_mode=read_only|-readonly|read_only\b", flags=re.IGNORECASE)


def _connections() -> list[tuple[str, int, str, str]]:
    """(file, line, the connection text, the lines around it) for every connection in the docs."""
    found = []
    for path in DOCS:
        lines = path.read_text("utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            for match in CONNECTION.finditer(line):
                around = "\n".join(lines[max(0, number - 2) : number + 3])
                found.append((path.relative_to(REPO).as_posix(), number, match.group(0), around))
    return found


def test_docs_never_give_the_warehouse_file_in_a_connection_string():
    connections = _connections()
    assert len(connections) >= 8, "the docs' connection examples were not found"
    assert [c for c in connections if "warehouse.duckdb" in c[2]] == []
    # Any line that names warehouse.duckdb is prose or the layout, never a connection.
    for path in DOCS:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if "warehouse.duckdb" in line:
                assert not re.search(r"connect\(|duckdb:/|jdbc:|Database=|attach|-readonly", line, re.I), (
                    f"{path.name}:{number}: {line}"
                )


def test_every_documented_connection_opens_the_serving_file_read_only():
    for file, number, text, around in _connections():
        where = f"{file}:{number}: {text}"
        if text.startswith("duckdb.connect(") and ".duckdb" not in text:
            # `duckdb.connect(path, read_only=True)` in prose: read-only is what matters.
            assert "read_only=True" in text, where
            continue
        if text.lower().startswith("filename:"):
            # Evidence opens its DuckDB source read-only, always (said beside it in docs/bi.md).
            assert text.split(":", 1)[1].strip() == "ree.duckdb", where
            continue
        if ".duckdb" in text or "duckdb:/" in text:
            assert "ree.duckdb" in text, where
        assert READ_ONLY.search(text) or READ_ONLY.search(around) or "read-only" in around.lower(), where
