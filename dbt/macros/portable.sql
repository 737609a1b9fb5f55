{#-
  The few constructs that DuckDB and Spark SQL spell differently, each behind adapter.dispatch:
  the models call these and read the same on both engines (README "Past one machine"). The
  duckdb__ forms are the SQL the project wrote before it had a second engine; the spark__ (or
  default__) forms are what Spark SQL 4 accepts.
-#}

{% macro union_all_by_name(relations) -%}
    {#- `select * from` each relation (a ref or a source), stacked by column name: a column
        missing from one relation is NULL there. Columns in the order of DuckDB's
        `union all by name`: the first relation's, then each new one where it first appears.
        (A plain `union all` stacks by position: silently wrong when the orders differ.) -#}
    {{ return(adapter.dispatch('union_all_by_name')(relations)) }}
{%- endmacro %}

{% macro duckdb__union_all_by_name(relations) -%}
    {%- for relation in relations %}
    select * from {{ relation }}
    {%- if not loop.last %}
    union all by name
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{% macro default__union_all_by_name(relations) -%}
    {%- set names = [] -%}
    {%- set present = [] -%}
    {%- for relation in relations -%}
        {%- set own = (adapter.get_columns_in_relation(relation) if execute else [])
                      | map(attribute='name') | map('lower') | list -%}
        {%- do present.append(own) -%}
        {%- for name in own -%}
            {%- if name not in names -%}{%- do names.append(name) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if not names -%}
        {#- parse time: a placeholder dbt never runs -#}
        {%- for relation in relations %}
    select * from {{ relation }}{{ ' union all' if not loop.last }}
        {%- endfor -%}
    {%- else -%}
        {%- for relation in relations %}
    select
            {%- set own = present[loop.index0] %}
            {%- for name in names %}
        {{ adapter.quote(name) if name in own else 'null as ' ~ adapter.quote(name) }}{{ ',' if not loop.last }}
            {%- endfor %}
    from {{ relation }}
            {%- if not loop.last %}
    union all
            {%- endif %}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{% macro star_except(columns) -%}
    {#- every column of the query but `columns` -#}
    {{ return(adapter.dispatch('star_except')(columns)) }}
{%- endmacro %}

{% macro duckdb__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro default__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}

{% macro json_map_sum(column) -%}
    {#- the sum of the values of a JSON object of integers (text), 0 when NULL or empty -#}
    {{ return(adapter.dispatch('json_map_sum')(column)) }}
{%- endmacro %}

{% macro duckdb__json_map_sum(column) -%}
    coalesce(list_sum(map_values(cast(cast({{ column }} as json) as map (string, bigint)))), 0)
{%- endmacro %}

{% macro default__json_map_sum(column) -%}
    coalesce(
        aggregate(map_values(from_json({{ column }}, 'map<string, bigint>')), cast(0 as bigint), (total, n) -> total + n),
        0
    )
{%- endmacro %}

{#- dbt's listagg on Spark drops its order_by_clause (with a warning); Spark 4 has the standard
    `listagg(...) within group (order by ...)`. Found first: dispatch search order in dbt_project.yml -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error('listagg with limit_num is not supported on spark') }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }}){{ ' within group (' ~ order_by_clause ~ ')' if order_by_clause }}
{%- endmacro %}

{% macro spark__month_spine(bounds, start_column, end_column) -%}
    select cast(spine.month_ts as date) as month_start
    from (
        select
            explode(
                sequence(
                    cast(spine_bounds.{{ start_column }} as date),
                    cast(spine_bounds.{{ end_column }} as date),
                    interval 1 month
                )
            ) as month_ts
        from {{ bounds }} as spine_bounds
    ) as spine
{%- endmacro %}

{#- Seeds on Spark: dbt-spark's session cursor formats bindings as '{value}'
    with no escaping, so a seed cell holding an apostrophe breaks the insert and
    an empty cell lands as the text 'None'. Render each cell as a literal here
    instead: null, bare numbers and booleans, quoted and escaped text. -#}
{% macro spark_literal(value) -%}
  {%- if value is none -%}null
  {%- elif value is boolean -%}{{ 'true' if value else 'false' }}
  {%- elif value is number -%}{{ value }}
  {%- elif value is string -%}'{{ value | replace('\\', '\\\\') | replace("'", "\\'") }}'
  {%- else -%}'{{ value.isoformat() }}'
  {%- endif -%}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set types = [] -%}
  {%- for col_name in agate_table.column_names -%}
    {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
  {%- endfor -%}
  {%- set statements = [] -%}
  {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
    {%- set sql -%}
      insert into {{ this.render() }} values
      {% for row in chunk -%}
        ({%- for value in row -%}
          cast({{ spark_literal(value) }} as {{ types[loop.index0] }})
          {%- if not loop.last %}, {% endif -%}
        {%- endfor -%})
        {%- if not loop.last %},{% endif %}
      {% endfor %}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
  {%- endfor -%}
  {{ return(statements[0] if statements else '') }}
{% endmacro %}
