-- The exporter_lines split of an import gives back the import: its net kg and value, split by
-- the exporter lines' kg and value shares, add back to the flow's net kg and value.
{{ config(meta = {'dagster': {'ref': {'name': 'int_element_flows__exporter_line_shares'}}}) }}
with

split as (
    select
        source,
        reporter_iso3,
        partner_iso3,
        flow,
        freq,
        period_start,
        product_code,
        sum(kg_share) as kg_share,
        sum(value_share) as value_share
    from {{ ref('int_element_flows__exporter_line_shares') }}
    where {{ incremental_test_scope('fct_element_flows', 'period_start') }}
    group by 1, 2, 3, 4, 5, 6, 7
)

select
    split.*,
    flows.net_weight_kg,
    flows.value_usd,
    flows.net_weight_kg * split.kg_share as split_kg,
    flows.value_usd * split.value_share as split_value_usd
from split
inner join {{ ref('fct_trade_flows') }} as flows
    using (source, reporter_iso3, partner_iso3, flow, freq, period_start, product_code)
where
    abs(flows.net_weight_kg * split.kg_share - flows.net_weight_kg) > 0.01
    or abs(flows.value_usd * split.value_share - flows.value_usd) > 0.01
