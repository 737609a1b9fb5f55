-- The current figure of every USGS statistic: per (section, commodity, statistic,
-- statistic_detail, country, period), the row of the latest MCS edition, whatever the order the
-- files were loaded in. A load without an edition counts as the oldest; within one edition the
-- latest committed load wins (ties: the larger load id).
with

ranked as (
    select
        statistics.*,
        dense_rank() over (
            partition by
                statistics.section,
                statistics.commodity,
                statistics.statistic,
                statistics.statistic_detail,
                statistics.country,
                statistics.period
            order by
                statistics.mcs_edition desc nulls last,
                statistics.loaded_at desc,
                statistics.load_id desc
        ) as revision_rank
    from {{ ref('stg_usgs__statistics') }} as statistics
)

select {{ star_except(['revision_rank']) }}
from ranked
where revision_rank = 1
