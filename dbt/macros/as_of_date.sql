{% macro as_of_date() -%}
    {#- The date export-control statuses and expiry counts are read on: the dbt var `as_of_date`
        (YYYY-MM-DD, e.g. `--vars '{as_of_date: 2026-12-03}'`), or the build date (current_date)
        when it is unset or empty. A value that is not a date stops the build with a clear error. -#}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or (value | string | trim) == '' -%}
        current_date
    {%- else -%}
        {%- set text = value | string | trim -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
            {{ exceptions.raise_compiler_error(
                "dbt var as_of_date must be a date written YYYY-MM-DD (or empty for the build date), got '"
                ~ text ~ "' (set in dbt/dbt_project.yml vars or with --vars)") }}
        {%- endif -%}
        cast('{{ text }}' as date)
    {%- endif -%}
{%- endmacro %}
