-- US Census flows in the trade-flow shape. Groupings (EU, regions) never become partners; the
-- total for all countries is kept as WLD. Exports are summed over the domestic/foreign (DF)
-- split; imports are general imports (GEN_VAL_MO, customs value) throughout.
with

records as (
    select * from {{ ref('int_census__current') }}
    where not is_grouping
),

summed as (
    select
        'census' as source,
        reporter_iso3,
        partner_iso3,
        flow,
        freq,
        period_start,
        year,
        month,
        commodity as product_code,
        quantity_unit,
        value_basis,
        load_id,
        -- kg only when every summed part declared a mass: a partial sum would understate it
        case when count(net_weight_kg) = count(*) then sum(net_weight_kg) end as net_weight_kg,
        sum(quantity) as quantity,
        sum(value_usd) as value_usd
    from records
    group by
        reporter_iso3,
        partner_iso3,
        flow,
        freq,
        period_start,
        year,
        month,
        commodity,
        quantity_unit,
        value_basis,
        load_id
)

select * from summed
