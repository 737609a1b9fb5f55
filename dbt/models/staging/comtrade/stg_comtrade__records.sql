-- Comtrade records as landed, limited to committed loads (a load counts once its load_log
-- record says `landed`), with lineage. Renames and casts only.
with

source as (
    select * from {{ source('lake_comtrade', 'records') }}
),

committed_loads as (
    select
        load_id,
        loaded_at
    from {{ source('lake_comtrade', 'load_log') }}
    where status = 'landed'
),

renamed as (
    select
        source._load_id as load_id,
        committed_loads.loaded_at,
        source._source_file as source_file,
        source._source_row as source_row,
        source.freq_code,
        cast(source.ref_year as integer) as ref_year,
        cast(source.ref_month as integer) as ref_month,
        source.period,
        source.period_start,
        cast(source.reporter_code as integer) as reporter_code,
        source.reporter_iso3,
        source.flow_code,
        source.flow,
        cast(source.partner_code as integer) as partner_code,
        source.partner_iso3,
        cast(source.partner2_code as integer) as partner2_code,
        source.classification_code,
        source.cmd_code,
        source.customs_code,
        cast(source.mot_code as integer) as mot_code,
        source.qty_unit_abbr,
        source.quantity,
        source.net_weight_kg,
        source.primary_value_usd,
        source.cif_value_usd,
        source.fob_value_usd,
        source.value_basis,
        source.is_world_partner,
        source.is_area_partner,
        source.is_breakdown
    from source
    inner join committed_loads
        on source._load_id = committed_loads.load_id
)

select * from renamed
