"""PROTOTYPE (not product code): the dbt project with its three big models made incremental.

`make_project(dest)` copies dbt/ and changes, in the copy only:

1. fct_trade_flows and fct_element_flows: incremental, delete+insert, unique_key period_start;
   mart_mirror_flows: incremental, delete+insert, unique_key year (its M2 alignment and source
   choice never cross a year). On an incremental run they read and replace only the *changed
   periods*: the periods of the loads committed since the last successful build.
2. Changed periods are found at run time, not passed in: macro `changed_periods()` reads
   `audit.load_log` (rebuilt first in every run, one row per file) for landed loads missing from
   `audit.built_loads`, a one-column table an on-run-end hook rewrites after a build without
   errors. (Passing them as `--vars` works too, but a new var value makes dbt re-parse the whole
   project: +2 s a run.)
3. The latest-revision window of int_comtrade/gacc/census__current also partitions by
   period_start (same rows: period_start is a function of the revision key), so DuckDB pushes a
   period filter through the window into the Parquet scan (measured: 0.33 s → 0.04 s at 10^6).
4. Data tests on the three models, on the trade-flow views under them and on the staging views
   look only at the changed periods on an incremental run (`default__get_where_subquery`, the hook
   dbt provides for `where`; and the two singular tests that scan the big tables,
   assert_comtrade_partners_sum_to_world and assert_element_values_sum_to_flow, which check one
   period at a time): the other periods were tested by the build that wrote them and have not
   changed. The other singular tests and the unit tests run as today.

A period is the unit of revision of every source (Comtrade reporter/flow/freq/period, GACC
flow/freq/period, Census flow/period all sit inside one period_start), so recomputing a whole
period from every committed load gives the rows a full build gives; `compare()` checks that on
the two warehouses. A seed change, a model change or a deleted load needs `--full-refresh`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
INCREMENTAL = {
    "fct_trade_flows": "period_start",
    "fct_element_flows": "period_start",
    "mart_mirror_flows": "year",
}

MACROS = """\
{#- PROTOTYPE (bench/prototypes/dbt_incremental.py) -#}

{% macro changed_periods() -%}
    {#- period_start dates (text) of the loads landed since the last good build; none: all -#}
    {%- if not execute or flags.FULL_REFRESH -%}{{ return(none) }}{%- endif -%}
    {%- set built = adapter.get_relation(database=target.database, schema='audit', identifier='built_loads') -%}
    {%- if built is none -%}{{ return(none) }}{%- endif -%}
    {%- set query -%}
        select distinct
            case when length(p) = 4 then p || '-01-01' else substr(p, 1, 7) || '-01' end as period_start
        from (
            select unnest(string_split(periods, ',')) as p
            from audit.load_log
            where status = 'landed' and load_id not in (select load_id from {{ built }})
        )
        where p != ''
        order by 1
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{% macro changed_filter(column) -%}
    {%- set periods = changed_periods() -%}
    {%- if periods is none -%}
        true
    {%- elif column == 'year' -%}
        {%- set years = periods | map('truncate', 4, true, '') | unique | list -%}
        year in ({{ years | join(', ') if years else 'null' }})
    {%- else -%}
        period_start in ({% for p in periods %}cast('{{ p }}' as date){{ ', ' if not loop.last }}{% else %}null{% endfor %})
    {%- endif -%}
{%- endmacro %}

{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scoped = {'fct_trade_flows': 'period_start', 'fct_element_flows': 'period_start',
                      'mart_mirror_flows': 'year', 'int_trade_flows__unioned': 'period_start',
                      'int_trade_flows__comtrade': 'period_start', 'int_trade_flows__gacc': 'period_start',
                      'int_trade_flows__census': 'period_start', 'stg_comtrade__records': 'period_start',
                      'stg_gacc__records': 'period_start', 'stg_census__records': 'period_start'} -%}
    {%- if relation.identifier in scoped and changed_periods() is not none -%}
        {%- set scope = changed_filter(scoped[relation.identifier]) -%}
        {%- set where = (where ~ ' and ' if where else '') ~ scope -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro record_built_loads(results) -%}
    {%- if execute and not (results | selectattr('status', 'in', ['error', 'fail', 'runtime error']) | list) -%}
        {%- do run_query("create or replace table audit.built_loads as select load_id from audit.load_log where status = 'landed'") -%}
    {%- endif -%}
{%- endmacro %}
"""

CONFIG = "{{{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='{key}', on_schema_change='fail') }}}}\n"


def _rewrite(path: Path, old: str, new: str, *, prefix: str = "") -> None:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise RuntimeError(f"{path.name}: cannot find {old!r}; the prototype needs updating")
    path.write_text(prefix + text.replace(old, new, 1), encoding="utf-8")


def make_project(dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(
        ROOT / "dbt", dest, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml")
    )
    (dest / "macros" / "prototype_incremental.sql").write_text(MACROS, encoding="utf-8")
    marts, inter = dest / "models" / "marts", dest / "models" / "intermediate"
    incremental = "\n{% if is_incremental() %}    where {{ changed_filter('KEY') }}{% endif %}\n"
    _rewrite(
        marts / "fct_trade_flows.sql",
        "select * from {{ ref('int_trade_flows__unioned') }}\n",
        "select * from {{ ref('int_trade_flows__unioned') }}" + incremental.replace("KEY", "period_start"),
        prefix=CONFIG.format(key="period_start"),
    )
    _rewrite(
        marts / "fct_element_flows.sql",
        "select * from {{ ref('fct_trade_flows') }}\n",
        "select * from {{ ref('fct_trade_flows') }}" + incremental.replace("KEY", "period_start"),
        prefix=CONFIG.format(key="period_start"),
    )
    _rewrite(
        marts / "mart_mirror_flows.sql",
        "where flow in ('import', 'export')\n",
        "where flow in ('import', 'export')\n{% if is_incremental() %}    and {{ changed_filter('year') }}{% endif %}\n",
        prefix=CONFIG.format(key="year"),
    )
    for name, key in (
        ("int_comtrade__current", "'period'"),
        ("int_gacc__current", "'period'"),
        ("int_census__current", "'period'"),
    ):
        _rewrite(inter / f"{name}.sql", f"{key}])", f"{key}, 'period_start'])")
    # The two singular tests that scan the big tables check one period at a time: scope them too.
    tests = dest / "tests"
    _rewrite(
        tests / "assert_comtrade_partners_sum_to_world.sql",
        "where not is_breakdown\n",
        "where not is_breakdown\n{% if execute %}        and {{ changed_filter('period_start') }}{% endif %}\n",
    )
    _rewrite(
        tests / "assert_element_values_sum_to_flow.sql",
        "    from {{ ref('fct_element_flows') }}\n",
        "    from {{ ref('fct_element_flows') }}\n"
        "{% if execute %}    where {{ changed_filter('period_start') }}{% endif %}\n",
    )
    project = dest / "dbt_project.yml"
    text = project.read_text(encoding="utf-8")
    if "on-run-end" in text:
        raise RuntimeError("dbt_project.yml has on-run-end already; the prototype needs updating")
    project.write_text(text + '\non-run-end:\n  - "{{ record_built_loads(results) }}"\n', encoding="utf-8")
    # dbt unit tests of an incremental model must say which branch they test: the full one.
    import yaml

    for path in (dest / "models").rglob("*.yml"):
        payload = yaml.safe_load(path.read_text(encoding="utf-8"))
        tests = (payload or {}).get("unit_tests") or []
        touched = False
        for test in tests:
            if test.get("model") in INCREMENTAL:
                test.setdefault("overrides", {}).setdefault("macros", {})["is_incremental"] = False
                touched = True
        if touched:
            path.write_text(yaml.safe_dump(payload, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def watermark(warehouse: Path, action: str) -> None:
    """Benchmark helper: save audit.built_loads before an incremental build, or restore it, so
    that the same incremental build can be timed twice."""
    con = duckdb.connect(str(warehouse))
    try:
        if action == "save":
            con.execute("create or replace table audit.built_loads_saved as select * from audit.built_loads")
        else:
            con.execute("create or replace table audit.built_loads as select * from audit.built_loads_saved")
    finally:
        con.close()


def compare(product_db: Path, proto_db: Path) -> dict:
    """Every marts table of the two warehouses: the same rows on every non-float column (as
    multisets), and every float column with the same sum and sum of squares to 1e-9 relative (a
    sum may add the same numbers in another order, so floats are not compared bit for bit)."""
    con = duckdb.connect()
    con.execute(f"attach '{product_db}' as a (read_only)")
    con.execute(f"attach '{proto_db}' as b (read_only)")
    tables = [
        t
        for (t,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'a' and schema_name = 'marts' order by 1"
        ).fetchall()
    ]
    differences = {}
    for table in tables:
        columns = con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = 'a' "
            "and schema_name = 'marts' and table_name = ? order by column_index",
            [table],
        ).fetchall()
        exact = ", ".join(f'"{c}"' for c, t in columns if t not in ("DOUBLE", "FLOAT")) or "1"
        floats = [f'"{c}"' for c, t in columns if t in ("DOUBLE", "FLOAT")]
        rows = con.execute(
            f"select (select count(*) from (select {exact} from a.marts.{table} except all "  # noqa: S608
            f"select {exact} from b.marts.{table})) + (select count(*) from (select {exact} from "
            f"b.marts.{table} except all select {exact} from a.marts.{table}))"
        ).fetchone()[0]
        if rows:
            differences[table] = f"{rows} rows differ"
            continue
        for column in floats:
            sums = f"sum({column}), sum({column} * {column}), count({column})"
            x = con.execute(f"select {sums} from a.marts.{table}").fetchone()  # noqa: S608
            y = con.execute(f"select {sums} from b.marts.{table}").fetchone()  # noqa: S608
            for u, v in zip(x, y, strict=True):
                if (u is None) != (v is None) or (
                    u is not None and abs(u - v) > 1e-9 * max(abs(u), abs(v), 1.0)
                ):
                    differences[table] = f"column {column}: {x} vs {y}"
                    break
    return {"equal": not differences, "tables": len(tables), "differences": differences}
