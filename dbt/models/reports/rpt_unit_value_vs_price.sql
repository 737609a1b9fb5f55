-- The report's chart "customs unit values vs benchmark prices": one row per source, reporter,
-- flow, element, form and period. Lines of mart_unit_value_vs_price with a declared mass, a value
-- and a benchmark; per tariff line the World total (the declared WLD row, else the sum of the
-- country rows: macro world_totals, the rule of mart_china_exports_by_stage); then mass-weighted
-- over the tariff lines of one element and form.
with

priced as (
    select * from {{ ref('mart_unit_value_vs_price') }}
    where
        benchmark_usd_per_kg is not null
        and net_weight_kg > 0
        and value_usd is not null
),

world_lines as (
    {{ world_totals(
        'priced',
        ['source', 'reporter_iso3', 'flow', 'freq', 'period_start', 'product_code', 'element', 'form',
         'price_basis'],
        ['value_usd', 'net_weight_kg'],
        {'benchmark_usd': ['benchmark_usd_per_kg', 'net_weight_kg']},
    ) }}
),

by_basis as (
    select
        source,
        reporter_iso3,
        flow,
        element,
        form,
        freq,
        period_start,
        price_basis,
        min(world_basis) as first_world_basis,
        max(world_basis) as last_world_basis,
        count(*) as tariff_lines,
        sum(value_usd) as value_usd,
        sum(net_weight_kg) as net_weight_kg,
        sum(benchmark_usd) as benchmark_usd
    from world_lines
    group by
        source,
        reporter_iso3,
        flow,
        element,
        form,
        freq,
        period_start,
        price_basis
),

points as (
    select
        source,
        reporter_iso3,
        flow,
        element,
        form,
        freq,
        period_start,
        case
            when min(first_world_basis) = max(last_world_basis) then min(first_world_basis) else 'mixed'
        end as world_basis,
        {{ dbt.listagg('price_basis', "', '", 'order by price_basis') }} as price_bases,
        sum(tariff_lines) as tariff_lines,
        sum(value_usd) as value_usd,
        sum(net_weight_kg) as net_weight_kg,
        sum(benchmark_usd) as benchmark_usd
    from by_basis
    group by
        source,
        reporter_iso3,
        flow,
        element,
        form,
        freq,
        period_start
),

final as (
    select
        cast(source as string) as source,
        cast(reporter_iso3 as string) as reporter_iso3,
        cast(flow as string) as flow,
        cast(element as string) as element,
        cast(form as string) as form,
        cast(freq as string) as freq,
        cast(period_start as date) as period_start,
        cast(world_basis as string) as world_basis,
        cast(price_bases as string) as price_bases,
        cast(tariff_lines as bigint) as tariff_lines,
        cast(net_weight_kg as double) as net_weight_kg,
        cast(value_usd as double) as value_usd,
        cast(value_usd / net_weight_kg as double) as unit_value_usd_per_kg,
        cast(benchmark_usd / net_weight_kg as double) as benchmark_usd_per_kg,
        cast(case when benchmark_usd != 0 then 100.0 * (value_usd / benchmark_usd - 1) end as double) as premium_pct
    from points
)

select * from final
