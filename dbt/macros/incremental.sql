{#-
  Incremental builds of the big facts (fct_trade_flows, fct_element_flows: partitions of
  period_start; mart_mirror_flows: partitions of year). Which periods a build rebuilds is decided
  in Python before dbt starts (dagster_project/warehouse/incremental.py) and read here from the
  environment variable REE_INCREMENTAL_PLAN (JSON):

      {"models": {"fct_trade_flows": {"full": false, "periods": ["2026-01-01"]},
                  "fct_element_flows": {"full": true, "reason": "..."}},
       "scopes": {"int_gacc__current": {"model": "fct_trade_flows", "column": "period_start"}}}

  Without it (a `dbt build` from a shell) every incremental model is rebuilt whole. A rebuilt
  partition is first deleted whole (pre-hook `incremental_pre_hook`), then recomputed from every
  committed load, so a partition that lost all its rows is emptied too. In an incremental
  `dbt build`, data tests of the incremental models and of the views under them (`scopes`) look
  only at the rebuilt periods; `dbt test`, and every full rebuild, test everything.
-#}

{% macro incremental_plan(model_name) -%}
    {#- {'full': true, 'reason': ...} or {'full': false, 'periods': ['YYYY-MM-DD', ...]}. Read
        only while executing: a plan read at parse time would make dbt re-parse on every change -#}
    {%- if flags.FULL_REFRESH -%}{{ return({'full': true, 'reason': '--full-refresh'}) }}{%- endif -%}
    {%- set text = env_var('REE_INCREMENTAL_PLAN', '') if execute else '' -%}
    {%- set models = (fromjson(text) if text else {}).get('models', {}) -%}
    {{ return(models.get(model_name, {'full': true, 'reason': 'no incremental plan (REE_INCREMENTAL_PLAN)'})) }}
{%- endmacro %}

{% macro changed_periods(model_name=none) -%}
    {#- the period_start dates (text, YYYY-MM-DD) to rebuild, or none for a full rebuild -#}
    {%- set plan = incremental_plan(model_name or model.name) -%}
    {{ return(none if plan.full else plan.periods) }}
{%- endmacro %}

{% macro changed_filter(column, model_name=none, periods=none) -%}
    {#- a predicate on `column` (period_start, or year) selecting the changed periods -#}
    {%- set periods = periods if periods is not none else changed_periods(model_name) -%}
    {#- (`false` when nothing changed: DuckDB then skips the whole plan, not so for `in (null)`) -#}
    {%- if periods is none -%}
        true
    {%- elif not periods -%}
        false
    {%- elif column.split('.')[-1] == 'year' -%}
        {{ column }} in ({{ periods | map('truncate', 4, true, '') | unique | sort | join(', ') }})
    {%- else -%}
        {{ column }} in ({% for p in periods %}cast('{{ p }}' as date){{ ', ' if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{% macro partition_config(column) -%}
    {#- how an incremental model replaces its changed partitions of `column`: on DuckDB
        delete+insert keyed on it; on Spark (no DELETE on Parquet tables) insert_overwrite of
        the table partitioned by it. The pre-hook empties each rebuilt partition first on both -#}
    {{ return(adapter.dispatch('partition_config')(column)) }}
{%- endmacro %}

{% macro duckdb__partition_config(column) -%}
    {{ return({'incremental_strategy': 'delete+insert', 'unique_key': column}) }}
{%- endmacro %}

{% macro default__partition_config(column) -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': [column]}) }}
{%- endmacro %}

{% macro incremental_pre_hook(column) -%}
    {#- log what this build of the model does and keep it in build_state.incremental_runs; empty
        the partitions it rebuilds first (delete+insert alone keeps a partition that has no rows
        any more, and so does Spark's insert_overwrite), or every row when an existing table is
        rebuilt whole without a plan -#}
    {%- if execute -%}
        {%- set plan = incremental_plan(this.identifier) -%}
        {%- set periods = [] if plan.full else plan.periods -%}
        {%- if plan.full -%}
            {{ log(this.identifier ~ ': full rebuild (' ~ plan.reason ~ ')', info=true) }}
        {%- else -%}
            {%- set partitions = periods | map('truncate', 4, true, '') | unique | sort | list
                                 if column == 'year' else periods -%}
            {{ log(this.identifier ~ ': incremental, ' ~ (partitions | length) ~ ' ' ~ column ~ ' partition(s) to rebuild'
                   ~ (': ' ~ (partitions[:12] | join(', ')) ~ (' ...' if partitions | length > 12 else '') if partitions else ''),
                   info=true) }}
        {%- endif -%}
        {{ adapter.dispatch('incremental_pre_hook_sql')(plan, periods, column) }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__incremental_pre_hook_sql(plan, periods, column) -%}
    create schema if not exists build_state;
    create table if not exists build_state.incremental_runs (
        invocation_id string, model string, started_at timestamp, mode string, reason string,
        periods string
    );
    insert into build_state.incremental_runs values (
        '{{ invocation_id }}', '{{ this.identifier }}', current_timestamp::timestamp,
        '{{ "full" if plan.full else "incremental" }}', '{{ (plan.reason or "") | replace("'", "''") if plan.full else "" }}',
        '{{ periods | join(",") }}'
    );
    {% if is_incremental() -%}
        delete from {{ this }} where {{ changed_filter(column, periods=none if plan.full else periods) }};
    {%- endif %}
{%- endmacro %}

{% macro default__incremental_pre_hook_sql(plan, periods, column) -%}
    {#- one statement per call (Spark runs one at a time), and nothing left for dbt to run. Spark
        reads '' inside a literal as two literals, so text is escaped with a backslash -#}
    {%- set reason = (plan.reason or "") | replace("\\", "\\\\") | replace("'", "\\'") if plan.full else "" -%}
    {%- do run_query('create schema if not exists build_state') -%}
    {%- do run_query(
        'create table if not exists build_state.incremental_runs (invocation_id string, model string, '
        ~ 'started_at timestamp, mode string, reason string, periods string) using parquet'
    ) -%}
    {%- do run_query(
        "insert into build_state.incremental_runs values ('" ~ invocation_id ~ "', '" ~ this.identifier
        ~ "', current_timestamp(), '" ~ ("full" if plan.full else "incremental") ~ "', '" ~ reason
        ~ "', '" ~ (periods | join(",")) ~ "')"
    ) -%}
    {%- if is_incremental() -%}
        {%- if plan.full -%}
            {%- do run_query('truncate table ' ~ this) -%}
        {%- elif periods -%}
            {%- set values = periods | map('truncate', 4, true, '') | unique | sort | list if column == 'year'
                             else periods | map('string') | list -%}
            {%- set drops = [] -%}
            {%- for value in values -%}
                {%- do drops.append('partition (' ~ column ~ ' = '
                                    ~ (value if column == 'year' else "date '" ~ value ~ "'") ~ ')') -%}
            {%- endfor -%}
            {%- do run_query('alter table ' ~ this ~ ' drop if exists ' ~ drops | join(', ')) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro incremental_test_scope(model_name, column) -%}
    {#- a predicate limiting a data test to the periods this build rebuilt, or `true` -#}
    {%- if not execute or flags.WHICH != 'build' -%}{{ return('true') }}{%- endif -%}
    {%- set plan = incremental_plan(model_name) -%}
    {{ return('true' if plan.full else changed_filter(column, periods=plan.periods)) }}
{%- endmacro %}

{% macro default__get_where_subquery(relation) -%}
    {#- dbt's own (the test's `where` config), plus the plan's scope of the tested relation. The
        one override left: a generic test's `where` is rendered at parse time, without macros,
        so this is the only place a run-time plan can reach dbt's built-in tests -#}
    {%- set where = config.get('where') or '' -%}
    {%- set text = env_var('REE_INCREMENTAL_PLAN', '') if execute else '' -%}
    {%- set scope = (fromjson(text) if text else {}).get('scopes', {}).get(relation.identifier) -%}
    {%- if scope -%}
        {%- set scoped = incremental_test_scope(scope.model, scope.column) -%}
        {%- set where = where ~ (' and ' if where else '') ~ scoped if scoped != 'true' else where -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
