-- Allocated element values add back to the value of the trade flow they came from.
{{ config(meta = {'dagster': {'ref': {'name': 'fct_element_flows'}}}) }}
with

allocated as (
    select
        source,
        reporter_iso3,
        partner_iso3,
        flow,
        freq,
        period_start,
        product_code,
        sum(value_usd) as allocated_value_usd
    from {{ ref('fct_element_flows') }}
    where {{ incremental_test_scope('fct_element_flows', 'period_start') }}
    group by 1, 2, 3, 4, 5, 6, 7
)

select
    allocated.*,
    flows.value_usd
from allocated
inner join {{ ref('fct_trade_flows') }} as flows
    using (source, reporter_iso3, partner_iso3, flow, freq, period_start, product_code)
where abs(allocated.allocated_value_usd - flows.value_usd) > 0.01
