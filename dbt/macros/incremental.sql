{#-
  Incremental builds of the big facts (fct_trade_flows, fct_element_flows: partitions of
  period_start; mart_mirror_flows: partitions of year).

  What a build rebuilds is decided at run time, from the warehouse, with no --vars:

  * The ledger. `build_state.incremental_loads` holds, per incremental model, the loads
    (source, load_id, loaded_at, periods) its table contains; `build_state.incremental_models`
    holds the fingerprint of the code and reference data it was built with. The on-run-end hook
    `record_incremental_state` rewrites both, only after a `dbt build` in which nothing failed.
  * The input. The landed loads of `audit.load_log` (rebuilt in every run, before
    fct_trade_flows) from the lake sources upstream of the model; for a model downstream of
    another incremental model, that model's input when it is built in the same run, else its
    ledger.
  * Changed periods: the periods of every load in the input and not in the ledger, or in the
    ledger and not in the input (a new file, a revision, a reload, a deleted or rejected load).
    An FX month also changes the first period of its year (GACC's January+February period and
    annual rows convert at rates of more than one month).
  * Full rebuild instead, when: --full-refresh; the model's table or the state is missing (first
    build); the fingerprint differs (a seed, a model, a source definition, a project macro, a
    column type or a config upstream of the model changed, or the last build was partial); or a
    load carries a period this macro cannot read. The project's `should_full_refresh` says so, so
    dbt's incremental materialization and `is_incremental()` follow it.

  A rebuilt partition is first deleted whole (pre-hook `incremental_pre_hook`) and then
  recomputed from every committed load, so a partition that lost all its rows is emptied too.
  Data tests of the incremental models and of the trade-flow views under them look only at the
  changed periods in an incremental `dbt build` (the other periods passed the build that wrote
  them and have not changed); `dbt test`, and every full rebuild, test everything.
-#}

{%- macro incremental_state_schema() -%}build_state{%- endmacro -%}

{#- Sources whose change in a month also changes the first period of that year. -#}
{%- macro incremental_year_sources() -%}{{ return(['fx']) }}{%- endmacro -%}

{#- Views whose data tests are scoped like an incremental model: name → (model, column). -#}
{%- macro incremental_scoped_views() -%}
    {{ return({
        'stg_comtrade__records': ['fct_trade_flows', 'period_start'],
        'stg_gacc__records': ['fct_trade_flows', 'period_start'],
        'stg_census__records': ['fct_trade_flows', 'period_start'],
        'int_comtrade__current': ['fct_trade_flows', 'period_start'],
        'int_gacc__current': ['fct_trade_flows', 'period_start'],
        'int_census__current': ['fct_trade_flows', 'period_start'],
        'int_trade_flows__comtrade': ['fct_trade_flows', 'period_start'],
        'int_trade_flows__gacc': ['fct_trade_flows', 'period_start'],
        'int_trade_flows__census': ['fct_trade_flows', 'period_start'],
        'int_trade_flows__unioned': ['fct_trade_flows', 'period_start'],
        'int_element_flows__exporter_line_shares': ['fct_element_flows', 'period_start'],
    }) }}
{%- endmacro -%}


{#- ---- the graph ------------------------------------------------------------------------------ -#}

{% macro incremental_node(name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {{ return(graph.nodes.get('model.' ~ project_name ~ '.' ~ name)) }}
{%- endmacro %}

{% macro incremental_upstream(unique_id) -%}
    {#- unique_id and every node and source it depends on, directly or not -#}
    {%- set seen = [unique_id] -%}
    {%- set ns = namespace(frontier=[unique_id]) -%}
    {%- for _ in range(100) if ns.frontier -%}
        {%- set next = [] -%}
        {%- for uid in ns.frontier -%}
            {%- set node = graph.nodes.get(uid) -%}
            {%- for parent in (node.depends_on.nodes if node else []) -%}
                {%- if parent not in seen -%}
                    {%- do seen.append(parent) -%}
                    {%- do next.append(parent) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set ns.frontier = next -%}
    {%- endfor -%}
    {{ return(seen) }}
{%- endmacro %}

{% macro incremental_parents(unique_id) -%}
    {#- the incremental models unique_id reads directly -#}
    {%- set parents = [] -%}
    {%- for parent in graph.nodes[unique_id].depends_on.nodes -%}
        {%- set node = graph.nodes.get(parent) -%}
        {%- if node and node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
            {%- do parents.append(parent) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(parents) }}
{%- endmacro %}

{% macro incremental_cache() -%}
    {#- a dict that lives as long as this dbt invocation: dbt builds `graph` once per invocation
        and hands the same object to every node, so plans and fingerprints are worked out once,
        not once per data test (about 15 ms each) -#}
    {%- set cache = graph.get('incremental_cache') -%}
    {%- if cache is none or cache.invocation_id != invocation_id -%}
        {%- set cache = {'invocation_id': invocation_id, 'fingerprints': {}, 'plans': {}} -%}
        {%- do graph.update({'incremental_cache': cache}) -%}
    {%- endif -%}
    {{ return(cache) }}
{%- endmacro %}

{% macro incremental_fingerprint(unique_id) -%}
    {#- md5 of what the model's rows depend on besides the loads: the checksum, config, column
        types and vars of every model and seed upstream, the source definitions, every macro of
        this project, and the dbt and adapter versions -#}
    {%- set fingerprints = incremental_cache().fingerprints -%}
    {%- if unique_id in fingerprints -%}{{ return(fingerprints[unique_id]) }}{%- endif -%}
    {%- set parts = ['dbt ' ~ dbt_version, 'adapter ' ~ target.type] -%}
    {%- for uid in incremental_upstream(unique_id) | sort -%}
        {%- if uid in graph.nodes -%}
            {%- set node = graph.nodes[uid] -%}
            {%- set columns = [] -%}
            {%- for name, column in node.columns.items() -%}
                {%- do columns.append(name ~ ':' ~ column.data_type) -%}
            {%- endfor -%}
            {%- do parts.append(uid ~ ' ' ~ node.checksum.checksum ~ ' ' ~ tojson(node.config, sort_keys=true)
                ~ ' ' ~ (columns | sort | join(','))) -%}
            {%- for name in modules.re.findall('(?<![A-Za-z0-9_])var[(] *.([A-Za-z0-9_]+)', node.raw_code or '') | unique | sort -%}
                {%- do parts.append('var ' ~ name ~ '=' ~ tojson(var(name, none), sort_keys=true)) -%}
            {%- endfor -%}
        {%- elif uid in graph.sources -%}
            {%- do parts.append(uid ~ ' ' ~ graph.sources[uid].relation_name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set macros = [] -%}
    {%- for name, value in context.items() -%}
        {%- if value.macro is defined and value.macro.package_name == project_name -%}
            {%- do macros.append('macro ' ~ name ~ ' ' ~ local_md5(value.macro.macro_sql)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do fingerprints.update({unique_id: local_md5((parts + (macros | sort)) | join('\n'))}) -%}
    {{ return(fingerprints[unique_id]) }}
{%- endmacro %}


{#- ---- the plan ------------------------------------------------------------------------------- -#}

{% macro incremental_relation(identifier) -%}
    {{ return(adapter.get_relation(database=target.database, schema=incremental_state_schema(), identifier=identifier)) }}
{%- endmacro %}

{% macro incremental_lake_sources(unique_id) -%}
    {#- the lake sources (comtrade, fx, ...) whose rows are upstream of the node (every load log
        is upstream of fct_trade_flows through audit.load_log: that does not count) -#}
    {%- set sources = [] -%}
    {%- for uid in incremental_upstream(unique_id) if uid in graph.sources and graph.sources[uid].name != 'load_log' -%}
        {%- set source_name = graph.sources[uid].source_name -%}
        {%- do sources.append(source_name[5:] if source_name.startswith('lake_') else source_name) -%}
    {%- endfor -%}
    {{ return(sources | unique | sort | list) }}
{%- endmacro %}

{% macro incremental_landed_sql(sources) -%}
    {#- the landed loads of these sources in audit.load_log, or none before its first build -#}
    {%- set load_log = incremental_node('load_log') -%}
    {%- set relation = adapter.get_relation(database=load_log.database, schema=load_log.schema,
                                            identifier=load_log.alias or load_log.name) -%}
    {%- if relation is none -%}{{ return(none) }}{%- endif -%}
    {%- set sql -%}
        select source, load_id, loaded_at, periods
        from {{ relation }}
        where status = 'landed' and source in ('{{ sources | join("', '") }}')
    {%- endset -%}
    {{ return(sql) }}
{%- endmacro %}

{% macro incremental_input_sql(unique_id) -%}
    {#- SQL for the loads (source, load_id, loaded_at, periods) the model is built from, or none
        when audit.load_log does not exist yet: the landed loads of its lake sources; for a model
        that reads another incremental model, that model's input when it is built in the same
        run, else its ledger (plus the loads of any lake source it reads by another path) -#}
    {%- set parents = incremental_parents(unique_id) -%}
    {%- if not parents -%}
        {{ return(incremental_landed_sql(incremental_lake_sources(unique_id))) }}
    {%- endif -%}
    {%- set queries, inherited = [], [] -%}
    {%- for parent in parents -%}
        {%- if parent in selected_resources -%}
            {%- set query = incremental_input_sql(parent) -%}
        {%- else -%}
            {%- set query -%}
                select source, load_id, loaded_at, periods
                from {{ incremental_state_schema() }}.incremental_loads
                where model = '{{ graph.nodes[parent].name }}'
            {%- endset -%}
        {%- endif -%}
        {%- if query is none -%}{{ return(none) }}{%- endif -%}
        {%- do queries.append('(' ~ query ~ ')') -%}
        {%- do inherited.extend(incremental_lake_sources(parent)) -%}
    {%- endfor -%}
    {%- set sql = queries | join(' intersect ') -%}
    {%- set own = incremental_lake_sources(unique_id) | reject('in', inherited) | list -%}
    {%- if own -%}
        {%- set landed = incremental_landed_sql(own) -%}
        {%- if landed is none -%}{{ return(none) }}{%- endif -%}
        {%- set sql = '(' ~ sql ~ ') union (' ~ landed ~ ')' -%}
    {%- endif -%}
    {{ return(sql) }}
{%- endmacro %}

{% macro incremental_plan(model_name) -%}
    {#- what this invocation does to the model: {'full': true, 'reason': ...} or
        {'full': false, 'periods': ['YYYY-MM-DD', ...], 'snapshot_current': ...}. Kept for the
        rest of the invocation when it is a full rebuild, or once audit.load_log, the loads it
        reads, cannot change any more (rebuilt in this invocation, or not part of it) -#}
    {%- if not execute -%}{{ return({'full': true, 'reason': 'not executing'}) }}{%- endif -%}
    {%- set plans = incremental_cache().plans -%}
    {%- if model_name in plans -%}{{ return(plans[model_name]) }}{%- endif -%}
    {%- set plan = incremental_plan_now(model_name) -%}
    {%- if plan.full or plan.snapshot_current or ('model.' ~ project_name ~ '.load_log') not in selected_resources -%}
        {%- do plans.update({model_name: plan}) -%}
    {%- endif -%}
    {{ return(plan) }}
{%- endmacro %}

{% macro incremental_plan_now(model_name) -%}
    {%- set node = incremental_node(model_name) -%}
    {%- if node is none or node.config.materialized != 'incremental' -%}
        {{ return({'full': true, 'reason': 'not an incremental model'}) }}
    {%- endif -%}
    {%- if flags.FULL_REFRESH -%}{{ return({'full': true, 'reason': '--full-refresh'}) }}{%- endif -%}
    {%- if adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias or node.name) is none -%}
        {{ return({'full': true, 'reason': 'no table yet'}) }}
    {%- endif -%}
    {%- set models, loads = incremental_relation('incremental_models'), incremental_relation('incremental_loads') -%}
    {%- set input_sql = incremental_input_sql(node.unique_id) -%}
    {%- if models is none or loads is none or input_sql is none -%}
        {{ return({'full': true, 'reason': 'no build state yet'}) }}
    {%- endif -%}
    {%- set snapshot = incremental_relation('load_log_snapshot') is not none -%}
    {%- set rows = run_query(incremental_changes_sql(model_name, input_sql, snapshot)) -%}
    {%- set plan = namespace(fingerprint=none, snapshot=none, periods=[], unreadable=[]) -%}
    {%- for kind, value in rows -%}
        {%- if kind == 'fingerprint' -%}{%- set plan.fingerprint = value -%}
        {%- elif kind == 'snapshot' -%}{%- set plan.snapshot = value -%}
        {%- elif kind == 'period' -%}{%- do plan.periods.append(value) -%}
        {%- else -%}{%- do plan.unreadable.append(value) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if plan.fingerprint is none -%}{{ return({'full': true, 'reason': 'no build state yet'}) }}{%- endif -%}
    {%- if plan.fingerprint == 'partial build' -%}
        {{ return({'full': true, 'reason': 'the last build changed code it did not rebuild everything upstream for'}) }}
    {%- endif -%}
    {%- if plan.fingerprint != incremental_fingerprint(node.unique_id) -%}
        {{ return({'full': true, 'reason': 'code or reference data changed since the last build'}) }}
    {%- endif -%}
    {%- if plan.unreadable -%}
        {{ return({'full': true, 'reason': 'unreadable periods ' ~ (plan.unreadable | join(', '))}) }}
    {%- endif -%}
    {{ return({'full': false, 'periods': plan.periods | sort,
               'snapshot_current': plan.snapshot == invocation_id}) }}
{%- endmacro %}

{% macro incremental_changes_sql(model_name, input_sql, snapshot) -%}
    {{ return(adapter.dispatch('incremental_changes_sql')(model_name, input_sql, snapshot)) }}
{%- endmacro %}

{% macro duckdb__incremental_changes_sql(model_name, input_sql, snapshot) -%}
    {%- set schema = incremental_state_schema() -%}
    with
    input_loads as (
        {{ input_sql }}
    ),
    built_loads as (
        select source, load_id, loaded_at, periods
        from {{ schema }}.incremental_loads
        where model = '{{ model_name }}'
    ),
    changed_loads as (
        (select * from input_loads except select * from built_loads)
        union all
        (select * from built_loads except select * from input_loads)
    ),
    periods as (
        select source, trim(unnest(string_split(coalesce(periods, ''), ','))) as period
        from changed_loads
    ),
    readable as (
        select
            source,
            period,
            regexp_full_match(period, '[0-9]{4}(-(0[1-9]|1[0-2])(/(0[1-9]|1[0-2]))?)?') as is_readable,
            cast(case when length(period) = 4 then period || '-01-01' else substr(period, 1, 7) || '-01' end as varchar)
                as period_start
        from periods
        where period != ''
    )
    select 'fingerprint' as kind, fingerprint as value
    from {{ schema }}.incremental_models
    where model = '{{ model_name }}'
    {%- if snapshot %}
    union all
    select 'snapshot', invocation_id from {{ schema }}.load_log_snapshot
    {%- endif %}
    union all
    select distinct 'period', period_start from readable where is_readable
    union all
    select distinct 'period', substr(period_start, 1, 4) || '-01-01'
    from readable
    where is_readable and source in ('{{ incremental_year_sources() | join("', '") }}')
    union all
    select distinct 'unreadable', period from readable where not is_readable
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
