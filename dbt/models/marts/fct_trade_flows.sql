-- Product grain trade flows, one row per (source, reporter, partner, flow, freq, period, product).
-- Incremental by period_start: a build recomputes only the periods of the loads that changed
-- since the last build (macros/incremental.sql); audit.load_log says which loads there are.
-- depends_on: {{ ref('load_log') }}
{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook="{{ incremental_pre_hook('period_start') }}",
        **partition_config('period_start')
    )
}}
with

flows as (
    select * from {{ ref('int_trade_flows__unioned') }}
    {%- if is_incremental() %}
        where {{ changed_filter('period_start') }}
    {%- endif %}
),

final as (
    select
        cast(source as string) as source,
        cast(reporter_iso3 as string) as reporter_iso3,
        cast(partner_iso3 as string) as partner_iso3,
        cast(flow as string) as flow,
        cast(freq as string) as freq,
        cast(period_start as date) as period_start,
        cast(year as integer) as year,
        cast(month as integer) as month,
        cast(product_code as string) as product_code,
        cast(hs6 as string) as hs6,
        cast(stage as string) as stage,
        cast(net_weight_kg as double) as net_weight_kg,
        cast(quantity as double) as quantity,
        cast(quantity_unit as string) as quantity_unit,
        cast(value_usd as double) as value_usd,
        cast(value_basis as string) as value_basis,
        cast(load_id as string) as load_id
    from flows
)

select * from final
