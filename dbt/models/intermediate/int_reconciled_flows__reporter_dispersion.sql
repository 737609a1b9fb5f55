-- The reporter reliability of the reconciliation (fct_reconciled_flows; after BACI, Gaulier &
-- Zignago 2010): each mirror pair's log discrepancy d = ln(CIF / (rate x FOB)); a reporter's
-- dispersion is its mean d^2 as exporter (as importer) over at least
-- `reconcile_weight_min_pairs` pairs, floored at `reconcile_var_floor`.
-- Estimated from every pair, so refreshed on the same monthly schedule as the CIF/FOB rates
-- (config.meta.refresh; dagster_project/warehouse/incremental.py).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        meta={'refresh': 'monthly'}
    )
}}
with

mirror as (
    select
        exporter_iso3,
        importer_iso3,
        hs6,
        case when freq = 'A' then 'A' else 'M' end as freq_family,
        export_value_usd,
        import_value_usd
    from {{ ref('mart_mirror_flows') }}
    where export_value_usd > 0 and import_value_usd > 0
),

discrepancies as (
    select
        mirror.exporter_iso3,
        mirror.importer_iso3,
        ln(
            mirror.import_value_usd
            / ({{ reconcile_rate('route_rates.rate', 'hs6_rates.rate') }} * mirror.export_value_usd)
        ) as log_discrepancy
    from mirror
    {{ reconcile_rate_joins('mirror') }}
),

dispersion as (
    select
        'exporter' as reporter_role,
        exporter_iso3 as iso3,
        avg(log_discrepancy * log_discrepancy) as mean_squared,
        count(*) as pairs
    from discrepancies
    group by exporter_iso3
    having count(*) >= {{ var('reconcile_weight_min_pairs') }}
    union all
    select
        'importer' as reporter_role,
        importer_iso3 as iso3,
        avg(log_discrepancy * log_discrepancy) as mean_squared,
        count(*) as pairs
    from discrepancies
    group by importer_iso3
    having count(*) >= {{ var('reconcile_weight_min_pairs') }}
)

select
    cast(reporter_role as string) as reporter_role,
    cast(iso3 as string) as iso3,
    cast(greatest(mean_squared, {{ var('reconcile_var_floor') }}) as double) as dispersion,
    cast(pairs as bigint) as pairs
from dispersion
-- An incremental build that is not due appends nothing: the weights of the last refresh stay.
where {{ 'false' if is_incremental() else 'true' }}
