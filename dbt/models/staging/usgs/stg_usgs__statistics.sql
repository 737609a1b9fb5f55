-- USGS Mineral Commodity Summaries statistics as landed, limited to committed loads (a load
-- counts once its load_log record says `landed`), with lineage. Renames and casts only.
with

source as (
    select * from {{ source('lake_usgs', 'records') }}
),

committed_loads as (
    select
        load_id,
        loaded_at
    from {{ source('lake_usgs', 'load_log') }}
    where status = 'landed'
),

renamed as (
    select
        source._load_id as load_id,
        committed_loads.loaded_at,
        source._source_file as source_file,
        source._source_row as source_row,
        source.mcs_chapter,
        source.section,
        source.commodity,
        source.country,
        source.statistic,
        source.statistic_detail,
        source.unit,
        cast(source.year as integer) as year,
        cast(source.year_start as integer) as year_start,
        source.period,
        source.value,
        source.value_low,
        source.value_high,
        source.value_flag,
        source.value_text,
        source.notes,
        source.other_notes,
        source.is_rare_earth,
        cast(source.mcs_edition as integer) as mcs_edition,
        coalesce(source.is_total, false) as is_total,
        source.source_field,
        source.source_line
    from source
    inner join committed_loads
        on source._load_id = committed_loads.load_id
)

select * from renamed
