{#- The reconciliation's CIF/FOB rate of a flow (fct_reconciled_flows and its reporter
    weights): the route's rate, else the HS6's, else the stated default; clamped to
    [reconcile_cif_fob_min, reconcile_cif_fob_max]. -#}
{% macro reconcile_rate(route_rate, hs6_rate) -%}
    least(
        greatest(
            coalesce({{ route_rate }}, {{ hs6_rate }}, {{ var('reconcile_cif_fob_default') }}),
            {{ var('reconcile_cif_fob_min') }}
        ),
        {{ var('reconcile_cif_fob_max') }}
    )
{%- endmacro %}

{#- Left joins of `relation` (with exporter_iso3, importer_iso3, hs6, freq_family) to the route
    and HS6 rates of int_reconciled_flows__cif_fob_rates, as `route_rates` and `hs6_rates`. -#}
{% macro reconcile_rate_joins(relation) -%}
    left join {{ ref('int_reconciled_flows__cif_fob_rates') }} as route_rates
        on
            route_rates.rate_level = 'route'
            and {{ relation }}.exporter_iso3 = route_rates.exporter_iso3
            and {{ relation }}.importer_iso3 = route_rates.importer_iso3
            and {{ relation }}.hs6 = route_rates.hs6
            and {{ relation }}.freq_family = route_rates.freq_family
    left join {{ ref('int_reconciled_flows__cif_fob_rates') }} as hs6_rates
        on
            hs6_rates.rate_level = 'hs6'
            and {{ relation }}.hs6 = hs6_rates.hs6
            and {{ relation }}.freq_family = hs6_rates.freq_family
{%- endmacro %}
