-- The report's chart "controlled elements around each control's effective date": one row per
-- regime, element, source, reporter and month, the World total of mart_export_control_exposure
-- (the declared WLD row, else the sum of the country rows: macro world_totals, the rule that
-- mart_china_exports_by_stage uses). Sources stay side by side.
with

exposure as (
    select * from {{ ref('mart_export_control_exposure') }}
),

world as (
    {{ world_totals(
        'exposure',
        ['regime_id', 'element', 'source', 'reporter_iso3', 'period_start', 'freq', 'effective_date',
         'months_from_effective'],
        ['element_kg', 'reo_kg', 'value_usd'],
    ) }}
),

final as (
    select
        cast(regime_id as string) as regime_id,
        cast(element as string) as element,
        cast(source as string) as source,
        cast(reporter_iso3 as string) as reporter_iso3,
        cast(period_start as date) as period_start,
        cast(freq as string) as freq,
        cast(effective_date as date) as effective_date,
        cast(months_from_effective as integer) as months_from_effective,
        cast(world_basis as string) as world_basis,
        cast(element_kg as double) as element_kg,
        cast(reo_kg as double) as reo_kg,
        cast(value_usd as double) as value_usd
    from world
)

select * from final
