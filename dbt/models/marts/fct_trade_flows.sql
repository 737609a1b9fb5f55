-- Product grain trade flows, one row per (source, reporter, partner, flow, freq, period, product).
-- Incremental by period_start: a build recomputes only the periods of the loads that changed
-- since the last build (macros/incremental.sql); audit.load_log says which loads there are.
-- depends_on: {{ ref('load_log') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period_start',
        on_schema_change='fail',
        pre_hook="{{ incremental_pre_hook('period_start') }}"
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
        cast(source as varchar) as source,
        cast(reporter_iso3 as varchar) as reporter_iso3,
        cast(partner_iso3 as varchar) as partner_iso3,
        cast(flow as varchar) as flow,
        cast(freq as varchar) as freq,
        cast(period_start as date) as period_start,
        cast(year as integer) as year,
        cast(month as integer) as month,
        cast(product_code as varchar) as product_code,
        cast(hs6 as varchar) as hs6,
        cast(stage as varchar) as stage,
        cast(net_weight_kg as double) as net_weight_kg,
        cast(quantity as double) as quantity,
        cast(quantity_unit as varchar) as quantity_unit,
        cast(value_usd as double) as value_usd,
        cast(value_basis as varchar) as value_basis,
        cast(load_id as varchar) as load_id
    from flows
)

select * from final
