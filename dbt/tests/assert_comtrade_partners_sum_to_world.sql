-- Comtrade partner rows (countries and areas, totals only) add up to the World row within 1 %.
-- A warning, not an error: reporters do revise partner detail and World separately.
{{ config(severity = 'warn') }}

with

totals as (
    select *
    from {{ ref('int_comtrade__current') }}
    where not is_breakdown and {{ incremental_test_scope('fct_trade_flows', 'period_start') }}
),

partners as (
    select
        reporter_iso3,
        flow,
        freq_code,
        period,
        cmd_code,
        sum(primary_value_usd) as partner_value
    from totals
    where not is_world_partner
    group by 1, 2, 3, 4, 5
),

world as (
    select
        reporter_iso3,
        flow,
        freq_code,
        period,
        cmd_code,
        primary_value_usd as world_value
    from totals
    where is_world_partner
)

select
    world.*,
    partners.partner_value
from world
inner join partners using (reporter_iso3, flow, freq_code, period, cmd_code)
where abs(partners.partner_value - world.world_value) > 0.01 * world.world_value
