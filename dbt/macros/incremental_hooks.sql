{#-
  How dbt uses the plan of macros/incremental.sql: `should_full_refresh` (dbt's incremental
  materialization and `is_incremental()` ask it), the models' pre-hook, the test scope
  (`get_where_subquery`), audit.load_log's post-hook and the on-run-end hook that records the state.
-#}

{% macro should_full_refresh() -%}
    {#- dbt's own rule (--full-refresh, or config full_refresh), plus: an incremental model is
        rebuilt whole when its plan says so -#}
    {%- set full = dbt.should_full_refresh() -%}
    {%- if not full and execute and model is defined and model.resource_type == 'model'
          and model.config.materialized == 'incremental' and config.get('full_refresh') is none -%}
        {%- set full = incremental_plan(model.name).full -%}
    {%- endif -%}
    {{ return(full) }}
{%- endmacro %}

{% macro incremental_pre_hook(column) -%}
    {#- log what this build of the model does; on an incremental build, empty the partitions it
        rebuilds first (delete+insert alone keeps a partition that has no rows any more) -#}
    {%- if execute -%}
        {%- set plan = incremental_plan(this.identifier) -%}
        {%- set schema = incremental_state_schema() -%}
        {%- set periods = plan.periods if not plan.full else [] -%}
        {%- if plan.full -%}
            {{ log(this.identifier ~ ': full rebuild (' ~ plan.reason ~ ')', info=true) }}
        {%- else -%}
            {%- set partitions = periods | map('truncate', 4, true, '') | unique | sort | list
                                 if column == 'year' else periods -%}
            {{ log(this.identifier ~ ': incremental, ' ~ (partitions | length) ~ ' ' ~ column ~ ' partition(s) to rebuild'
                   ~ (': ' ~ (partitions[:12] | join(', ')) ~ (' ...' if partitions | length > 12 else '') if partitions else ''),
                   info=true) }}
        {%- endif -%}
        create schema if not exists {{ schema }};
        create table if not exists {{ schema }}.incremental_runs (
            invocation_id varchar, model varchar, started_at timestamp, mode varchar, reason varchar,
            periods varchar
        );
        insert into {{ schema }}.incremental_runs values (
            '{{ invocation_id }}', '{{ this.identifier }}', current_timestamp::timestamp,
            '{{ "full" if plan.full else "incremental" }}', '{{ (plan.reason or "") | replace("'", "''") if plan.full else "" }}',
            '{{ periods | join(",") }}'
        );
        {% if not plan.full -%}
            delete from {{ this }} where {{ changed_filter(column, periods=periods) }};
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{% macro record_load_snapshot() -%}
    {#- post-hook of audit.load_log: says which invocation built the snapshot of loads -#}
    {%- set schema = incremental_state_schema() -%}
    create schema if not exists {{ schema }};
    create or replace table {{ schema }}.load_log_snapshot as
    select '{{ invocation_id }}' as invocation_id, current_timestamp::timestamp as built_at;
{%- endmacro %}

{% macro incremental_test_scope(model_name, column) -%}
    {#- a predicate limiting a data test to the periods this build rebuilt, or `true` -#}
    {%- if not execute or flags.WHICH != 'build' -%}{{ return('true') }}{%- endif -%}
    {%- set plan = incremental_plan(model_name) -%}
    {%- set load_log = 'model.' ~ project_name ~ '.load_log' -%}
    {%- if plan.full or (load_log in selected_resources and not plan.snapshot_current) -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return(changed_filter(column, periods=plan.periods)) }}
{%- endmacro %}

{% macro default__get_where_subquery(relation) -%}
    {#- dbt's where config, plus the incremental scope of the tested relation -#}
    {%- set where = config.get('where', '') -%}
    {%- set scoped = incremental_scoped_views() -%}
    {%- set node = incremental_node(relation.identifier) -%}
    {%- if node and node.config.materialized == 'incremental' -%}
        {%- set scope = incremental_test_scope(node.name, node.config.unique_key) -%}
    {%- elif relation.identifier in scoped -%}
        {%- set scope = incremental_test_scope(scoped[relation.identifier][0], scoped[relation.identifier][1]) -%}
    {%- else -%}
        {%- set scope = 'true' -%}
    {%- endif -%}
    {%- if scope != 'true' -%}
        {%- set where = (where ~ ' and ' if where else '') ~ scope -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro record_incremental_state(results) -%}
    {#- on-run-end: after a `dbt build` in which nothing failed, each incremental model that was
        built records its fingerprint and the loads it now contains -#}
    {%- if not execute or flags.WHICH != 'build' -%}{{ return('') }}{%- endif -%}
    {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error', 'partial success']) | list -%}
    {%- if failed -%}
        {{ log('incremental state not recorded: ' ~ (failed | length) ~ ' node(s) failed; the next build redoes the same periods', info=true) }}
        {{ return('') }}
    {%- endif -%}
    {%- set built = results | selectattr('status', 'equalto', 'success') | map(attribute='node.unique_id') | list -%}
    {%- set schema = incremental_state_schema() -%}
    {%- set statements = [
        'create schema if not exists ' ~ schema,
        'create table if not exists ' ~ schema ~ '.incremental_models (model varchar, fingerprint varchar, built_at timestamp, invocation_id varchar)',
        'create table if not exists ' ~ schema ~ '.incremental_loads (model varchar, source varchar, load_id varchar, loaded_at timestamp, periods varchar)',
    ] -%}
    {%- set stored = {} -%}
    {%- if incremental_relation('incremental_models') is not none -%}
        {%- for model_name, fingerprint in run_query('select model, fingerprint from ' ~ schema ~ '.incremental_models') -%}
            {%- do stored.update({model_name: fingerprint}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for uid, node in graph.nodes.items() -%}
        {%- if node.resource_type == 'model' and node.config.materialized == 'incremental' and uid in built -%}
            {%- set input_sql = incremental_input_sql(uid) -%}
            {%- set fingerprint = incremental_fingerprint(uid) -%}
            {%- set upstream = [] -%}
            {%- for up in incremental_upstream(uid) -%}
                {%- if up in graph.nodes and graph.nodes[up].resource_type in ['model', 'seed', 'snapshot'] and up not in selected_resources -%}
                    {%- do upstream.append(up) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if upstream and stored.get(node.name) != fingerprint -%}
                {#- built from upstream objects this run did not rebuild: trust them next time only
                    if nothing changed, else rebuild whole -#}
                {%- set fingerprint = 'partial build' -%}
            {%- endif -%}
            {%- if input_sql is not none -%}
                {%- do statements.append("delete from " ~ schema ~ ".incremental_loads where model = '" ~ node.name ~ "'") -%}
                {%- do statements.append("insert into " ~ schema ~ ".incremental_loads select '" ~ node.name
                    ~ "', source, load_id, loaded_at, periods from (" ~ input_sql ~ ")") -%}
                {%- do statements.append("delete from " ~ schema ~ ".incremental_models where model = '" ~ node.name ~ "'") -%}
                {%- do statements.append("insert into " ~ schema ~ ".incremental_models values ('" ~ node.name ~ "', '"
                    ~ fingerprint ~ "', current_timestamp::timestamp, '" ~ invocation_id ~ "')") -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {#- one transaction: the state of every model, or none of it -#}
    {%- do run_query(statements | join(';\n')) -%}
    {%- do adapter.commit() -%}
    {{ return('') }}
{%- endmacro %}
