{% macro element_flows_changed_filter(period_column, month_expression, freq_column) -%}
    {#- changed_filter on period_column, plus the February rows of a year whose January changed:
        an importer's February takes the shares of the exporter's January+February (M2) period,
        which has period_start 1 January (fct_element_flows, allocation exporter_lines) -#}
    (
        {{ changed_filter(period_column) }}
        or (
            {{ freq_column }} = 'M'
            and {{ month_expression }} = 2
            and {{ changed_filter('cast(' ~ period_column ~ ' - interval 1 month as date)') }}
        )
    )
{%- endmacro %}
