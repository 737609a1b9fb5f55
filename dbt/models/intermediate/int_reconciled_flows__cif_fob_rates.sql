-- The CIF/FOB rates of the reconciliation (fct_reconciled_flows; after BACI, Gaulier & Zignago
-- 2010): the median import CIF / export FOB ratio over the mirror pairs of a route (exporter,
-- importer, HS6) and of an HS6, over ratios inside [trim_low, trim_high] and with at least
-- `reconcile_min_pairs` of them. Annual and monthly pairs give separate rates (freq family A, or
-- M with M2).
-- Estimated from every pair, so not in every build: the table is kept as it is until the first
-- build of a calendar month (config.meta.refresh; dagster_project/warehouse/incremental.py), and
-- fct_reconciled_flows is then rebuilt whole.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        meta={'refresh': 'monthly'}
    )
}}
with

-- pairs whose ratio may estimate freight and insurance
rate_pairs as (
    select
        exporter_iso3,
        importer_iso3,
        hs6,
        case when freq = 'A' then 'A' else 'M' end as freq_family,
        import_value_usd / export_value_usd as ratio
    from {{ ref('mart_mirror_flows') }}
    where
        export_value_usd > 0
        and import_value_usd > 0
        and import_value_usd / export_value_usd
        between {{ var('reconcile_ratio_trim_low') }} and {{ var('reconcile_ratio_trim_high') }}
),

route_rates as (
    select
        'route' as rate_level,
        exporter_iso3,
        importer_iso3,
        hs6,
        freq_family,
        median(ratio) as rate,
        count(*) as pairs
    from rate_pairs
    group by exporter_iso3, importer_iso3, hs6, freq_family
    having count(*) >= {{ var('reconcile_min_pairs') }}
),

hs6_rates as (
    select
        'hs6' as rate_level,
        cast(null as string) as exporter_iso3,
        cast(null as string) as importer_iso3,
        hs6,
        freq_family,
        median(ratio) as rate,
        count(*) as pairs
    from rate_pairs
    group by hs6, freq_family
    having count(*) >= {{ var('reconcile_min_pairs') }}
),

rates as (
    select * from route_rates
    union all
    select * from hs6_rates
)

select
    cast(rate_level as string) as rate_level,
    cast(exporter_iso3 as string) as exporter_iso3,
    cast(importer_iso3 as string) as importer_iso3,
    cast(hs6 as string) as hs6,
    cast(freq_family as string) as freq_family,
    cast(rate as double) as rate,
    cast(pairs as bigint) as pairs
from rates
-- An incremental build that is not due appends nothing: the rates of the last refresh stay.
where {{ 'false' if is_incremental() else 'true' }}
