-- USGS Mineral Commodity Summaries figures for rare earths, yttrium and scandium: U.S. imports,
-- exports, production, consumption, net import reliance, import sources, prices, and world
-- production and reserves, each the current figure (the latest MCS edition, int_usgs__current)
-- with its edition, unit and year. Flags stay flags: a withheld or not-available figure has a
-- NULL value, a bound (`>95`) its low or high.
with

current_statistics as (
    select * from {{ ref('int_usgs__current') }}
    where is_rare_earth
),

classified as (
    select
        *,
        case
            when lower(statistic) like 'imports%' then 'imports'
            when lower(statistic) like 'exports%' then 'exports'
            when lower(statistic) like 'net import reliance%' then 'net_import_reliance'
            when lower(statistic) like 'import sources%' then 'import_source'
            when lower(statistic) like 'price%' then 'price'
            when lower(statistic) like 'share of world production%' then 'world_production_share'
            when lower(statistic) like '%production%' then 'production'
            when lower(statistic) like 'consumption%' then 'consumption'
            when lower(statistic) like 'reserves%' then 'reserves'
            when lower(statistic) like 'employment%' then 'employment'
            when lower(statistic) like 'stocks%' then 'stocks'
            else 'other'
        end as measure
    from current_statistics
)

select
    cast(mcs_edition as integer) as mcs_edition,
    cast(section as string) as section,
    cast(commodity as string) as commodity,
    cast(measure as string) as measure,
    cast(statistic as string) as statistic,
    cast(statistic_detail as string) as statistic_detail,
    cast(country as string) as country,
    cast(is_total as boolean) as is_total,
    cast(year as integer) as year,
    cast(year_start as integer) as year_start,
    cast(unit as string) as unit,
    cast(value as double) as value,
    cast(value_low as double) as value_low,
    cast(value_high as double) as value_high,
    cast(value_flag as string) as value_flag,
    cast(value_text as string) as value_text,
    cast(notes as string) as notes,
    cast(source_file as string) as source_file,
    cast(source_field as string) as source_field,
    cast(source_line as bigint) as source_line,
    cast(load_id as string) as load_id
from classified
