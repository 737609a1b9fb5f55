-- Census intltrade rows as landed, limited to committed loads (a load counts once its load_log
-- record says `landed`), with lineage. Renames and casts only: the world row ("-", WLD) and the
-- groupings stay flagged, and exports keep their DF split (summed downstream).
with

source as (
    select * from {{ source('lake_census', 'records') }}
),

committed_loads as (
    select
        load_id,
        loaded_at
    from {{ source('lake_census', 'load_log') }}
    where status = 'landed'
),

renamed as (
    select
        source._load_id as load_id,
        committed_loads.loaded_at,
        source._source_file as source_file,
        source._source_row as source_row,
        source.flow,
        -- rows landed before these columns existed: what ingest now lands (sources/census.py)
        coalesce(source.freq, 'M') as freq,
        source.period,
        source.period_start,
        cast(source.year as integer) as year,
        cast(source.month as integer) as month,
        coalesce(source.reporter_iso3, 'USA') as reporter_iso3,
        source.cty_code,
        source.partner_iso3,
        source.is_world_partner,
        source.is_grouping,
        source.commodity,
        source.df_code,
        source.value_usd,
        source.value_basis,
        source.con_value_usd,
        source.gen_cif_value_usd,
        source.quantity,
        source.quantity_unit,
        source.net_weight_kg
    from source
    inner join committed_loads
        on source._load_id = committed_loads.load_id
)

select * from renamed
