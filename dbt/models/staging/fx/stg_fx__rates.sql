-- Exchange rates (units of currency per USD) as landed, limited to committed loads. Renames and
-- casts only. `rate_source` is `declared` (a date,currency,per_usd file) or `ecb_cross` (computed
-- from the ECB EUR reference rates through the USD column); loads from before the column existed
-- were all declared.
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
        source.per_usd,
        coalesce(source.rate_source, 'declared') as rate_source
    from source
    inner join committed_loads
        on source._load_id = committed_loads.load_id
)

select * from renamed
