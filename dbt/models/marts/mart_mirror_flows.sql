-- Mirror statistics: the exporter's declared exports to the importer set against the importer's
-- declared imports from the exporter, per HS6 line and period.
--
-- One source per side: for each (reporter, flow, frequency, period) the national source when it
-- has that period (gacc for CHN, census for USA), else comtrade; two sources are never added.
-- January and February of a year are one unit for that choice, so a source reporting them as M2
-- (combined) and another reporting them as two M months are never mixed.
-- Periods are aligned: A with A, M with M; when either side reports Jan+Feb of a year as M2, the
-- other side's January and February are summed into the M2 row. Monthly rows are never added up
-- to annual ones. Only country partners (no World, no aggregates).
-- Incremental by year: the source choice and the M2 alignment never cross a year, so a build
-- recomputes only the years of the periods that changed (macros/incremental.sql).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='year',
        on_schema_change='fail',
        pre_hook="{{ incremental_pre_hook('year') }}"
    )
}}
with

flows as (
    select * from {{ ref('fct_trade_flows') }}
    where
        flow in ('import', 'export')
        and {{ changed_filter('year') if is_incremental() else 'true' }}
),

countries as (
    select iso3 from {{ ref('dim_country') }}
    where not is_aggregate
),

keyed_flows as (
    select
        flows.*,
        case when flows.freq = 'A' then 'A' else 'M' end as freq_family,
        case
            when flows.freq = 'M' and flows.month = 2
                then cast({{ dbt.dateadd('month', -1, 'flows.period_start') }} as date)
            else flows.period_start
        end as selection_period,
        case
            when
                (flows.source = 'gacc' and flows.reporter_iso3 = 'CHN')
                or (flows.source = 'census' and flows.reporter_iso3 = 'USA')
                then 1
            when flows.source = 'comtrade' then 2
            else 3
        end as source_rank
    from flows
),

source_periods as (
    select distinct
        source,
        reporter_iso3,
        flow,
        freq_family,
        selection_period,
        source_rank
    from keyed_flows
),

ranked_sources as (
    select
        source_periods.*,
        row_number() over (
            partition by
                source_periods.reporter_iso3,
                source_periods.flow,
                source_periods.freq_family,
                source_periods.selection_period
            order by source_periods.source_rank asc, source_periods.source asc
        ) as preference
    from source_periods
),

chosen_flows as (
    select keyed_flows.*
    from keyed_flows
    inner join ranked_sources
        on
            keyed_flows.source = ranked_sources.source
            and keyed_flows.reporter_iso3 = ranked_sources.reporter_iso3
            and keyed_flows.flow = ranked_sources.flow
            and keyed_flows.freq_family = ranked_sources.freq_family
            and keyed_flows.selection_period = ranked_sources.selection_period
    where ranked_sources.preference = 1
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
        case
            when aligned_freq = 'M2' and freq = 'M'
                then cast({{ dbt.dateadd('month', '1 - month', 'period_start') }} as date)
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
        cast(exporter_iso3 as varchar) as exporter_iso3,
        cast(importer_iso3 as varchar) as importer_iso3,
        cast(hs6 as varchar) as hs6,
        cast(freq as varchar) as freq,
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
        cast(export_source as varchar) as export_source,
        cast(import_source as varchar) as import_source
    from mirrored
)

select * from final
