-- Source precedence, written once: for each (reporter, flow, freq family, selection period) the
-- rows of one source only, the national source when it has that period (gacc for CHN, census for
-- USA), else comtrade, else the first other source by name; two sources are never added. January
-- and February of a year are one unit for that choice (selection_period, from
-- int_trade_flows__periods), so a national M2 period is never set beside comtrade's January and
-- February. Every flow is kept (the marts filter it); `year` is among the keys (a selection
-- period never crosses a year) so that a filter on year reaches the rows before the choice.
with

flows as (
    select * from {{ ref('int_trade_flows__periods') }}
),

ranked_flows as (
    select
        flows.*,
        case
            when
                (flows.source = 'gacc' and flows.reporter_iso3 = 'CHN')
                or (flows.source = 'census' and flows.reporter_iso3 = 'USA')
                then 1
            when flows.source = 'comtrade' then 2
            else 3
        end as source_rank
    from flows
),

source_periods as (
    select distinct
        source,
        reporter_iso3,
        flow,
        freq_family,
        year,
        selection_period,
        source_rank
    from ranked_flows
),

ranked_sources as (
    select
        source_periods.*,
        row_number() over (
            partition by
                source_periods.reporter_iso3,
                source_periods.flow,
                source_periods.freq_family,
                source_periods.year,
                source_periods.selection_period
            order by source_periods.source_rank asc, source_periods.source asc
        ) as preference
    from source_periods
),

final as (
    select ranked_flows.*
    from ranked_flows
    inner join ranked_sources
        on
            ranked_flows.source = ranked_sources.source
            and ranked_flows.reporter_iso3 = ranked_sources.reporter_iso3
            and ranked_flows.flow = ranked_sources.flow
            and ranked_flows.freq_family = ranked_sources.freq_family
            and ranked_flows.year = ranked_sources.year
            and ranked_flows.selection_period = ranked_sources.selection_period
    where ranked_sources.preference = 1
)

select * from final
