-- One best estimate per flow: the exporter's and the importer's declarations of a flow (the
-- pairs of mart_mirror_flows: one source per side, periods aligned, M2 against Jan+Feb) reconciled
-- after BACI (Gaulier & Zignago 2010, CEPII working paper 2010-23), at FOB.
--
-- 1. CIF/FOB rate: median of import CIF / export FOB over the pairs of the route (exporter,
--    importer, HS6) with at least `reconcile_min_pairs` ratios inside [trim_low, trim_high], else
--    of the HS6, else `reconcile_cif_fob_default`; clamped to [cif_fob_min, cif_fob_max]. Annual
--    and monthly pairs give separate rates (freq family A, or M with M2).
-- 2. Reliability: each pair's log discrepancy d = ln(CIF / (rate x FOB)); a reporter's dispersion
--    is its mean d^2 as exporter (as importer) over at least `reconcile_weight_min_pairs` pairs,
--    floored at `reconcile_var_floor`. Weights 1/var normalised over the pair's two reporters;
--    0.5 / 0.5 when either reporter has too few pairs.
-- 3. Combined FOB = w_x * FOB_x + w_m * CIF_m / rate; kg = w_x * kg_x + w_m * kg_m. A flow one
--    side declared takes that side (imports converted to FOB with the rate).
-- Incremental by year, like mart_mirror_flows: a build reconciles only the years whose pairs
-- changed, with the rates and weights of int_reconciled_flows__cif_fob_rates and
-- __reporter_dispersion. Those are estimated from every pair and re-estimated on a schedule (the
-- first build of each calendar month, or every build with REE_RECONCILE_REFRESH=always); this
-- table is then rebuilt whole (dagster_project/warehouse/incremental.py).
{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook="{{ incremental_pre_hook('year') }}",
        **partition_config('year')
    )
}}
with

mirror as (
    select
        *,
        case when freq = 'A' then 'A' else 'M' end as freq_family
    from {{ ref('mart_mirror_flows') }}
    where {{ changed_filter('year') if is_incremental() else 'true' }}
),

rated as (
    select
        mirror.*,
        {{ reconcile_rate('route_rates.rate', 'hs6_rates.rate') }} as cif_fob_rate,
        case
            when route_rates.rate is not null then 'route'
            when hs6_rates.rate is not null then 'hs6'
            else 'default'
        end as cif_fob_rate_basis
    from mirror
    {{ reconcile_rate_joins('mirror') }}
),

exporter_dispersion as (
    select
        iso3,
        dispersion
    from {{ ref('int_reconciled_flows__reporter_dispersion') }}
    where reporter_role = 'exporter'
),

importer_dispersion as (
    select
        iso3,
        dispersion
    from {{ ref('int_reconciled_flows__reporter_dispersion') }}
    where reporter_role = 'importer'
),

weighted as (
    select
        rated.*,
        case
            when rated.export_value_usd is null and rated.export_kg is null then 'importer_only'
            when rated.import_value_usd is null and rated.import_kg is null then 'exporter_only'
            else 'both'
        end as declared_by,
        case
            when exporter_dispersion.dispersion is null or importer_dispersion.dispersion is null
                then 0.5
            else
                (1.0 / exporter_dispersion.dispersion)
                / (1.0 / exporter_dispersion.dispersion + 1.0 / importer_dispersion.dispersion)
        end as pair_exporter_weight
    from rated
    left join exporter_dispersion
        on rated.exporter_iso3 = exporter_dispersion.iso3
    left join importer_dispersion
        on rated.importer_iso3 = importer_dispersion.iso3
),

combined as (
    select
        *,
        case
            when declared_by = 'exporter_only' then 1.0
            when declared_by = 'importer_only' then 0.0
            else pair_exporter_weight
        end as exporter_weight,
        case
            when export_value_usd is not null and import_value_usd is not null
                then
                    pair_exporter_weight * export_value_usd
                    + (1 - pair_exporter_weight) * import_value_usd / cif_fob_rate
            else coalesce(export_value_usd, import_value_usd / cif_fob_rate)
        end as reconciled_value_usd,
        case
            when export_kg is not null and import_kg is not null
                then pair_exporter_weight * export_kg + (1 - pair_exporter_weight) * import_kg
            else coalesce(export_kg, import_kg)
        end as reconciled_kg
    from weighted
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
        cast(declared_by as string) as declared_by,
        cast(reconciled_value_usd as double) as reconciled_value_usd,
        cast(reconciled_kg as double) as reconciled_kg,
        cast(export_value_usd as double) as export_value_usd,
        cast(import_value_usd as double) as import_value_usd,
        cast(export_kg as double) as export_kg,
        cast(import_kg as double) as import_kg,
        cast(cif_fob_rate as double) as cif_fob_rate,
        cast(cif_fob_rate_basis as string) as cif_fob_rate_basis,
        cast(exporter_weight as double) as exporter_weight,
        cast(1 - exporter_weight as double) as importer_weight,
        cast(export_source as string) as export_source,
        cast(import_source as string) as import_source,
        cast('{{ var("reconcile_method_version") }}' as string) as method_version
    from combined
)

select * from final
