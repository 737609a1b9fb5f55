{#-
  One row per calendar month (column `month_start`, a DATE) from the month of `start_column` to
  the month of `end_column`, both inclusive, for each row of `bounds` (a CTE or relation with
  those two date columns, each the first day of a month). No row when either bound is NULL.

  DuckDB uses generate_series; the default builds the months from a cross join of digits and
  dbt's cross-database dateadd/datediff, so the model that calls it stays portable.
-#}
{% macro month_spine(bounds, start_column, end_column) -%}
    {{ return(adapter.dispatch('month_spine')(bounds, start_column, end_column)) }}
{%- endmacro %}

{% macro duckdb__month_spine(bounds, start_column, end_column) -%}
    select cast(spine.month_ts as date) as month_start
    from (
        select
            unnest(
                generate_series(
                    cast(spine_bounds.{{ start_column }} as timestamp),
                    cast(spine_bounds.{{ end_column }} as timestamp),
                    interval 1 month
                )
            ) as month_ts
        from {{ bounds }} as spine_bounds
    ) as spine
{%- endmacro %}

{% macro default__month_spine(bounds, start_column, end_column) -%}
    {#- Offsets 0..9999 months (833 years) from four digit tables. -#}
    select cast({{ dbt.dateadd('month', 'offsets.month_offset', 'spine_bounds.' ~ start_column) }} as date) as month_start
    from {{ bounds }} as spine_bounds
    cross join (
        select units.digit + 10 * tens.digit + 100 * hundreds.digit + 1000 * thousands.digit as month_offset
        from
            (
                select 0 as digit union all select 1 union all select 2 union all select 3 union all select 4
                union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
            ) as units
        cross join
            (
                select 0 as digit union all select 1 union all select 2 union all select 3 union all select 4
                union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
            ) as tens
        cross join
            (
                select 0 as digit union all select 1 union all select 2 union all select 3 union all select 4
                union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
            ) as hundreds
        cross join
            (
                select 0 as digit union all select 1 union all select 2 union all select 3 union all select 4
                union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
            ) as thousands
    ) as offsets
    where
        offsets.month_offset
        <= {{ dbt.datediff('spine_bounds.' ~ start_column, 'spine_bounds.' ~ end_column, 'month') }}
{%- endmacro %}
