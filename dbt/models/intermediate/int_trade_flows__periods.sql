-- Every trade-flow row with the arithmetic of its period, written once for every mart:
--   period_months     12 for an annual row, 2 for China's January+February (M2), else 1
--   period_end        the first day after the period (period_start + period_months months)
--   freq_family       A for annual rows, M for monthly ones (M and M2): never compared across
--   selection_period  the unit in which a mart picks one source: the period itself, except that
--                     January and February of a year are one unit (a February M row is keyed to
--                     January), so a source giving them as one M2 period is never set beside
--                     another source's two M months
-- Rows are neither filtered nor chosen here (int_trade_flows__preferred chooses the source).
with

flows as (
    select * from {{ ref('fct_trade_flows') }}
),

measured as (
    select
        flows.*,
        case when flows.freq = 'A' then 'A' else 'M' end as freq_family,
        case when flows.freq = 'A' then 12 when flows.freq = 'M2' then 2 else 1 end as period_months,
        case
            when flows.freq = 'M' and flows.month = 2
                then cast({{ dbt.dateadd('month', -1, 'flows.period_start') }} as date)
            else flows.period_start
        end as selection_period
    from flows
),

final as (
    select
        measured.*,
        cast({{ dbt.dateadd('month', 'measured.period_months', 'measured.period_start') }} as date) as period_end
    from measured
)

select * from final
