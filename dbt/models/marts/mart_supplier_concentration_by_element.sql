-- How concentrated each importer's supply of each element is, per national source and year:
-- the element-level view the HS6 mart cannot give (only national lines are element-specific).
-- Shares are shares of allocated import value among individual partner countries. A year counts
-- when the source covers all twelve months (China's January+February period counts as two).
-- Allocations exact and assumed_composition only: exporter_lines splits exist only for imports
-- from an exporter that declares element lines (China), so adding them would raise China's share
-- against partners whose mixed lines stay unassigned.
with

element_imports as (
    select * from {{ ref('fct_element_flows') }}
    where
        flow = 'import'
        and source in ('census', 'gacc')
        and allocation in ('exact', 'assumed_composition')
        and freq in ('M', 'M2')
),

countries as (
    select * from {{ ref('dim_country') }}
),

months_covered as (
    select
        source,
        reporter_iso3,
        year,
        sum(period_months) as months
    from (
        select distinct
            source,
            reporter_iso3,
            year,
            freq,
            period_start,
            period_months
        from {{ ref('int_trade_flows__periods') }}
        where flow = 'import' and freq in ('M', 'M2')
    ) as periods
    group by source, reporter_iso3, year
),

partner_values as (
    select
        element_imports.source,
        element_imports.reporter_iso3 as importer_iso3,
        element_imports.element,
        element_imports.year,
        element_imports.partner_iso3,
        sum(element_imports.value_usd) as value_usd,
        sum(element_imports.element_kg) as element_kg
    from element_imports
    inner join countries
        on element_imports.partner_iso3 = countries.iso3
    inner join months_covered
        on
            element_imports.source = months_covered.source
            and element_imports.reporter_iso3 = months_covered.reporter_iso3
            and element_imports.year = months_covered.year
    where not countries.is_aggregate and months_covered.months = 12
    group by
        element_imports.source,
        element_imports.reporter_iso3,
        element_imports.element,
        element_imports.year,
        element_imports.partner_iso3
),

element_kg as (
    select
        source,
        importer_iso3,
        element,
        year,
        sum(element_kg) as total_element_kg
    from partner_values
    group by source, importer_iso3, element, year
),

concentration as (
    {{ concentration_metrics('partner_values', ['source', 'importer_iso3', 'element', 'year']) }}
),

final as (
    select
        cast(concentration.source as string) as source,
        cast(concentration.importer_iso3 as string) as importer_iso3,
        cast(concentration.element as string) as element,
        cast(concentration.year as integer) as year,
        cast(concentration.total_import_value_usd as double) as total_import_value_usd,
        cast(element_kg.total_element_kg as double) as total_element_kg,
        cast(concentration.hhi as double) as hhi,
        cast(10000.0 / concentration.hhi as double) as effective_suppliers,
        cast(concentration.top1_partner_iso3 as string) as top1_partner_iso3,
        cast(concentration.top1_share as double) as top1_share,
        cast(concentration.top3_share as double) as top3_share,
        cast(concentration.supplier_count as bigint) as supplier_count,
        cast(concentration.china_share as double) as china_share
    from concentration
    inner join element_kg
        on
            concentration.source = element_kg.source
            and concentration.importer_iso3 = element_kg.importer_iso3
            and concentration.element = element_kg.element
            and concentration.year = element_kg.year
)

select * from final
