-- How concentrated each importer's supply of each HS6 line is, per source and year.
-- Shares are value shares among individual partner countries: the World row and area or group
-- aggregates are excluded (World is kept as `world_value_usd` for reconciliation).
-- A year counts when it is annual data, or twelve months of monthly data when no annual
-- record exists for that (source, importer, year): the two are never added together.
with

imports as (
    select * from {{ ref('fct_trade_flows') }}
    where flow = 'import'
),

countries as (
    select * from {{ ref('dim_country') }}
),

annual_years as (
    select distinct
        source,
        reporter_iso3,
        year
    from imports
    where freq = 'A'
),

full_monthly_years as (
    select
        source,
        reporter_iso3,
        year
    from imports
    where freq = 'M'
    group by source, reporter_iso3, year
    having count(distinct month) = 12
),

year_basis as (
    select
        source,
        reporter_iso3,
        year,
        'annual' as year_basis
    from annual_years
    union all
    select
        full_monthly_years.source,
        full_monthly_years.reporter_iso3,
        full_monthly_years.year,
        'sum_of_12_months' as year_basis
    from full_monthly_years
    left join annual_years
        on
            full_monthly_years.source = annual_years.source
            and full_monthly_years.reporter_iso3 = annual_years.reporter_iso3
            and full_monthly_years.year = annual_years.year
    where annual_years.year is null
),

chosen as (
    select
        imports.source,
        imports.reporter_iso3 as importer_iso3,
        imports.partner_iso3,
        imports.hs6,
        imports.year,
        year_basis.year_basis,
        imports.value_usd
    from imports
    inner join year_basis
        on
            imports.source = year_basis.source
            and imports.reporter_iso3 = year_basis.reporter_iso3
            and imports.year = year_basis.year
            and imports.freq = case when year_basis.year_basis = 'annual' then 'A' else 'M' end
),

world as (
    select
        source,
        importer_iso3,
        hs6,
        year,
        sum(value_usd) as world_value_usd
    from chosen
    where partner_iso3 = 'WLD'
    group by source, importer_iso3, hs6, year
),

partner_values as (
    select
        chosen.source,
        chosen.importer_iso3,
        chosen.partner_iso3,
        chosen.hs6,
        chosen.year,
        chosen.year_basis,
        sum(chosen.value_usd) as value_usd
    from chosen
    inner join countries
        on chosen.partner_iso3 = countries.iso3
    where not countries.is_aggregate
    group by
        chosen.source,
        chosen.importer_iso3,
        chosen.partner_iso3,
        chosen.hs6,
        chosen.year,
        chosen.year_basis
),

concentration as (
    {{ concentration_metrics('partner_values', ['source', 'importer_iso3', 'hs6', 'year']) }}
),

year_bases as (
    select distinct
        source,
        importer_iso3,
        hs6,
        year,
        year_basis
    from partner_values
),

final as (
    select
        cast(concentration.source as string) as source,
        cast(concentration.importer_iso3 as string) as importer_iso3,
        cast(concentration.hs6 as string) as hs6,
        cast(concentration.year as integer) as year,
        cast(year_bases.year_basis as string) as year_basis,
        cast(concentration.total_import_value_usd as double) as total_import_value_usd,
        cast(concentration.hhi as double) as hhi,
        cast(10000.0 / concentration.hhi as double) as effective_suppliers,
        cast(concentration.top1_partner_iso3 as string) as top1_partner_iso3,
        cast(concentration.top1_share as double) as top1_share,
        cast(concentration.top3_share as double) as top3_share,
        cast(concentration.supplier_count as bigint) as supplier_count,
        cast(concentration.china_share as double) as china_share,
        cast(world.world_value_usd as double) as world_value_usd
    from concentration
    inner join year_bases
        on
            concentration.source = year_bases.source
            and concentration.importer_iso3 = year_bases.importer_iso3
            and concentration.hs6 = year_bases.hs6
            and concentration.year = year_bases.year
    left join world
        on
            concentration.source = world.source
            and concentration.importer_iso3 = world.importer_iso3
            and concentration.hs6 = world.hs6
            and concentration.year = world.year
)

select * from final
