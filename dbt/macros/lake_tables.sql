{#-
  The lake's Parquet datasets as tables, for engines that cannot read a path in a FROM clause.
  DuckDB reads them directly (each source's `external_location`, read_parquet over the glob),
  so there this is empty. On Spark (on-run-start) every dataset becomes an external table
  `lake_<source>.records` / `lake_<source>.load_log` over its folder, re-created on each run,
  with the columns of its `_schema.parquet` (Spark skips `_` files, so an empty source would have
  no schema to infer). The list comes from Python, which reads those schema files:
  REE_SPARK_LAKE_TABLES = [{"schema": ..., "name": ..., "location": ..., "columns": "a string, ..."}]
  (dagster_project/warehouse/spark.py). Dropping an external table never deletes its files.
-#}
{% macro lake_tables() -%}
    {{ return(adapter.dispatch('lake_tables')()) }}
{%- endmacro %}

{% macro duckdb__lake_tables() -%}
{%- endmacro %}

{% macro default__lake_tables() -%}
    {%- if execute -%}
        {%- set text = env_var('REE_SPARK_LAKE_TABLES', '') -%}
        {%- if not text -%}
            {{ exceptions.raise_compiler_error(
                "REE_SPARK_LAKE_TABLES is not set: build on Spark through `make run-spark` or "
                ~ "dagster_project.warehouse.spark (it lists the lake's datasets and their columns)") }}
        {%- endif -%}
        {%- for table in fromjson(text) -%}
            {%- do run_query('create database if not exists ' ~ table.schema) -%}
            {%- do run_query('drop table if exists ' ~ table.schema ~ '.' ~ table.name) -%}
            {%- do run_query(
                'create table ' ~ table.schema ~ '.' ~ table.name ~ ' (' ~ table.columns ~ ') using parquet '
                ~ "options (recursiveFileLookup 'true', mergeSchema 'true', pathGlobFilter '*.parquet') "
                ~ "location '" ~ table.location ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
