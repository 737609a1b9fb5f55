-- Mirror statistics: the exporter's declared exports to the importer set against the importer's
-- declared imports from the exporter, per HS6 line and period.
--
-- One source per side: the rows of int_trade_flows__preferred (for each reporter, flow, frequency
-- and period the national source when it has that period, else comtrade; January and February of
-- a year one unit for that choice); two sources are never added.
-- Periods are aligned: A with A, M with M; when either side reports Jan+Feb of a year as M2, the
-- other side's January and February are summed into the M2 row. Monthly rows are never added up
-- to annual ones. Only country partners (no World, no aggregates).
-- Incremental by year: the source choice and the M2 alignment never cross a year, so a build
-- recomputes only the years of the periods that changed (macros/incremental.sql).
{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook="{{ incremental_pre_hook('year') }}",
        **partition_config('year')
    )
}}
-- The rows come from fct_trade_flows through the views int_trade_flows__periods and __preferred;
-- the incremental plan takes the loads of the incremental models a model refs directly, so:
-- depends_on: {{ ref('fct_trade_flows') }}
with

chosen_flows as (
    select * from {{ ref('int_trade_flows__preferred') }}
    where
        flow in ('import', 'export')
        and {{ changed_filter('year') if is_incremental() else 'true' }}
),

countries as (
    select iso3 from {{ ref('dim_country') }}
    where not is_aggregate
),

-- Reporters whose chosen source gives January + February of a year as one M2 period.
m2_years as (
    select distinct
        reporter_iso3,
        flow,
        year
    from chosen_flows
    where freq = 'M2'
),

sides as (
    select
        'export' as side,
        source,
        reporter_iso3 as exporter_iso3,
        partner_iso3 as importer_iso3,
        hs6,
        freq,
        period_start,
        selection_period,
        year,
        month,
        net_weight_kg,
        value_usd
    from chosen_flows
    where flow = 'export'
    union all
    select
        'import' as side,
        source,
        partner_iso3 as exporter_iso3,
        reporter_iso3 as importer_iso3,
        hs6,
        freq,
        period_start,
        selection_period,
        year,
        month,
        net_weight_kg,
        value_usd
    from chosen_flows
    where flow = 'import'
),

country_sides as (
    select sides.*
    from sides
    inner join countries as exporters
        on sides.exporter_iso3 = exporters.iso3
    inner join countries as importers
        on sides.importer_iso3 = importers.iso3
),

aligned_sides as (
    select
        country_sides.*,
        case
            when
                country_sides.freq = 'M'
                and country_sides.month <= 2
                and (exporter_m2.year is not null or importer_m2.year is not null)
                then 'M2'
            else country_sides.freq
        end as aligned_freq
    from country_sides
    left join m2_years as exporter_m2
        on
            country_sides.exporter_iso3 = exporter_m2.reporter_iso3
            and exporter_m2.flow = 'export'
            and country_sides.year = exporter_m2.year
    left join m2_years as importer_m2
        on
            country_sides.importer_iso3 = importer_m2.reporter_iso3
            and importer_m2.flow = 'import'
            and country_sides.year = importer_m2.year
),

aligned_periods as (
    select
        side,
        source,
        exporter_iso3,
        importer_iso3,
        hs6,
        aligned_freq as freq,
        -- a January or February month set into its year's M2 period: January (its selection period)
        case
            when aligned_freq = 'M2' and freq = 'M' then selection_period
            else period_start
        end as period_start,
        year,
        case when aligned_freq = 'M2' then 1 else month end as month,
        net_weight_kg,
        value_usd
    from aligned_sides
),

mirrored as (
    select
        exporter_iso3,
        importer_iso3,
        hs6,
        freq,
        period_start,
        year,
        month,
        sum(case when side = 'export' then value_usd end) as export_value_usd,
        sum(case when side = 'import' then value_usd end) as import_value_usd,
        sum(case when side = 'export' then net_weight_kg end) as export_kg,
        sum(case when side = 'import' then net_weight_kg end) as import_kg,
        max(case when side = 'export' then source end) as export_source,
        max(case when side = 'import' then source end) as import_source
    from aligned_periods
    group by
        exporter_iso3,
        importer_iso3,
        hs6,
        freq,
        period_start,
        year,
        month
),

final as (
    select
        cast(exporter_iso3 as string) as exporter_iso3,
        cast(importer_iso3 as string) as importer_iso3,
        cast(hs6 as string) as hs6,
        cast(freq as string) as freq,
        cast(period_start as date) as period_start,
        cast(year as integer) as year,
        cast(month as integer) as month,
        cast(export_value_usd as double) as export_value_usd,
        cast(import_value_usd as double) as import_value_usd,
        cast(export_kg as double) as export_kg,
        cast(import_kg as double) as import_kg,
        cast(import_value_usd - export_value_usd as double) as value_gap_usd,
        cast(
            case
                when export_value_usd is null or export_value_usd = 0 then null
                else import_value_usd / export_value_usd
            end as double
        ) as cif_fob_ratio,
        cast(export_source as string) as export_source,
        cast(import_source as string) as import_source
    from mirrored
)

select * from final
