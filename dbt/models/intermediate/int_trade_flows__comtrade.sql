-- Comtrade totals in the trade-flow shape: breakdown slices (customs procedure, transport mode,
-- second partner) and Comtrade areas stay in raw; the World row is kept as partner WLD.
with

records as (
    select * from {{ ref('int_comtrade__current') }}
),

totals as (
    select
        'comtrade' as source,
        reporter_iso3,
        partner_iso3,
        flow,
        freq_code as freq,
        period_start,
        ref_year as year,
        ref_month as month,
        cmd_code as product_code,
        net_weight_kg,
        quantity,
        qty_unit_abbr as quantity_unit,
        primary_value_usd as value_usd,
        value_basis,
        load_id
    from records
    where
        not is_breakdown
        and not is_area_partner
)

select * from totals
