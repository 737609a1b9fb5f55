-- Exchange rates (units of currency per USD) as landed, limited to committed loads.
with

source as (
    select * from {{ source('lake_fx', 'records') }}
),

committed_loads as (
    select
        load_id,
        loaded_at
    from {{ source('lake_fx', 'load_log') }}
    where status = 'landed'
),

renamed as (
    select
        source._load_id as load_id,
        committed_loads.loaded_at,
        source._source_file as source_file,
        source._source_row as source_row,
        source.rate_date,
        source.currency,
        source.per_usd
    from source
    inner join committed_loads
        on source._load_id = committed_loads.load_id
)

select * from renamed
