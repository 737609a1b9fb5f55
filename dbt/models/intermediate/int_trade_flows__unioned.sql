-- Every customs source in one trade-flow shape, with the product line resolved by source, code
-- and year (never by code alone). Sources stay side by side here; marts pick one per figure.
with

flows as (
    {{ union_all_by_name([
        ref('int_trade_flows__comtrade'),
        ref('int_trade_flows__census'),
        ref('int_trade_flows__gacc'),
    ]) }}
),

products as (
    select * from {{ ref('products') }}
),

resolved as (
    select
        flows.source,
        flows.reporter_iso3,
        flows.partner_iso3,
        flows.flow,
        flows.freq,
        flows.period_start,
        flows.year,
        flows.month,
        flows.product_code,
        products.hs6,
        products.stage,
        flows.net_weight_kg,
        flows.quantity,
        flows.quantity_unit,
        flows.value_usd,
        flows.value_basis,
        flows.load_id
    from flows
    inner join products
        on
            flows.source = products.source
            and flows.product_code = products.product_code
            and flows.year between products.valid_from_year and products.valid_to_year
)

select * from resolved
