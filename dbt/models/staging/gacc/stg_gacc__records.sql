-- GACC (China customs) rows as landed, limited to committed loads (a load counts once its
-- load_log record says `landed`), with lineage. Renames and casts only: trade-mode and
-- registration-place rows are still separate, and CNY values are not converted yet.
with

source as (
    select * from {{ source('lake_gacc', 'records') }}
),

committed_loads as (
    select
        load_id,
        loaded_at
    from {{ source('lake_gacc', 'load_log') }}
    where status = 'landed'
),

renamed as (
    select
        source._load_id as load_id,
        committed_loads.loaded_at,
        source._source_file as source_file,
        source._source_row as source_row,
        source.flow,
        source.freq,
        source.period,
        source.period_start,
        cast(source.year as integer) as year,
        cast(source.month as integer) as month,
        source.reporter_iso3,
        source.product_code,
        source.partner_code,
        source.partner_name,
        source.partner_iso3,
        source.is_world_partner,
        source.trade_mode_code,
        source.trade_mode,
        source.registration_place_code,
        source.registration_place,
        source.quantity_1,
        source.unit_1,
        -- rows landed before the column existed: the rule ingest now applies (sources/gacc.py)
        coalesce(
            source.quantity_unit,
            case source.unit_1 when '千克' then 'kg' when '吨' then 't' when '个' then 'u' else source.unit_1 end
        ) as quantity_unit,
        source.quantity_2,
        source.unit_2,
        source.net_weight_kg,
        source.value,
        source.currency,
        source.value_usd,
        coalesce(source.value_basis, case source.flow when 'export' then 'FOB' else 'CIF' end) as value_basis
    from source
    inner join committed_loads
        on source._load_id = committed_loads.load_id
)

select * from renamed
