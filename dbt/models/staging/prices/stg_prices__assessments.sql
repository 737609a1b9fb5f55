-- Price assessments as landed, limited to committed loads. Renames and casts only.
with

source as (
    select * from {{ source('lake_prices', 'records') }}
),

committed_loads as (
    select
        load_id,
        loaded_at
    from {{ source('lake_prices', 'load_log') }}
    where status = 'landed'
),

renamed as (
    select
        source._load_id as load_id,
        committed_loads.loaded_at,
        source._source_file as source_file,
        source._source_row as source_row,
        source.price_date,
        source.price_source,
        source.product,
        source.element,
        source.form,
        source.purity,
        source.basis,
        source.currency,
        source.unit,
        source.price_low,
        source.price_high
    from source
    inner join committed_loads
        on source._load_id = committed_loads.load_id
)

select * from renamed
