-- Source precedence, written once: for each (reporter, flow, freq family, selection period) the
-- rows of one source only, the national source when it has that period (gacc for CHN, census for
-- USA), else comtrade, else the first other source by name; two sources are never added. January
-- and February of a year are one unit for that choice (selection_period, from
-- int_trade_flows__periods), so a national M2 period is never set beside comtrade's January and
-- February. Every flow is kept (the marts filter it).
--
-- Written so that a filter on the view (mart_mirror_flows' incremental `year in (...)`) reaches
-- both reads of the rows: `year` is among the keys (a selection period never crosses a year), the
-- choice is an aggregate, not a window (DuckDB pushes filters through group keys, not through a
-- window's partition), and no CTE is read twice (DuckDB would materialise it whole first).
{% set source_rank -%}
    case
        when (source = 'gacc' and reporter_iso3 = 'CHN') or (source = 'census' and reporter_iso3 = 'USA')
            then 1
        when source = 'comtrade' then 2
        else 3
    end
{%- endset %}

with

ranked_flows as (
    select
        *,
        {{ source_rank }} as source_rank
    from {{ ref('int_trade_flows__periods') }}
),

-- per (reporter, flow, freq family, year, selection period): the lowest rank, then the first
-- source by name (the one-digit rank sorts as text)
choices as (
    select
        reporter_iso3,
        flow,
        freq_family,
        year,
        selection_period,
        min(cast({{ source_rank }} as string) || source) as choice
    from {{ ref('int_trade_flows__periods') }}
    group by
        reporter_iso3,
        flow,
        freq_family,
        year,
        selection_period
),

chosen_sources as (
    select
        reporter_iso3,
        flow,
        freq_family,
        year,
        selection_period,
        substr(choice, 2) as source
    from choices
),

final as (
    select ranked_flows.*
    from ranked_flows
    inner join chosen_sources
        on
            ranked_flows.source = chosen_sources.source
            and ranked_flows.reporter_iso3 = chosen_sources.reporter_iso3
            and ranked_flows.flow = chosen_sources.flow
            and ranked_flows.freq_family = chosen_sources.freq_family
            and ranked_flows.year = chosen_sources.year
            and ranked_flows.selection_period = chosen_sources.selection_period
)

select * from final
