-- China-by-stage World rows taken from a declared World total carry exactly the net weight of the
-- fct_trade_flows World rows of the chosen source, stage and period: nothing dropped, no second
-- source added. Checked per (period, freq, source, stage) over groups whose WLD rows are all declared.
{{ config(meta = {'dagster': {'ref': {'name': 'mart_china_exports_by_stage'}}}) }}
with

world_rows as (
    select
        period_start,
        freq,
        source,
        stage,
        sum(net_weight_kg) as mart_net_weight_kg,
        min(world_basis) as first_basis,
        max(world_basis) as last_basis
    from {{ ref('mart_china_exports_by_stage') }}
    where partner_iso3 = 'WLD'
    group by period_start, freq, source, stage
),

declared_groups as (
    select * from world_rows
    where first_basis = 'declared' and last_basis = 'declared'
),

flow_totals as (
    select
        period_start,
        freq,
        source,
        stage,
        sum(net_weight_kg) as flow_net_weight_kg
    from {{ ref('fct_trade_flows') }}
    where
        reporter_iso3 = 'CHN'
        and flow = 'export'
        and partner_iso3 = 'WLD'
        and freq in ('M', 'M2')
    group by period_start, freq, source, stage
)

select
    declared_groups.period_start,
    declared_groups.freq,
    declared_groups.source,
    declared_groups.stage,
    declared_groups.mart_net_weight_kg,
    flow_totals.flow_net_weight_kg
from declared_groups
left join flow_totals
    on
        declared_groups.period_start = flow_totals.period_start
        and declared_groups.freq = flow_totals.freq
        and declared_groups.source = flow_totals.source
        and declared_groups.stage = flow_totals.stage
where
    flow_totals.period_start is null
    or (declared_groups.mart_net_weight_kg is null) != (flow_totals.flow_net_weight_kg is null)
    or abs(declared_groups.mart_net_weight_kg - flow_totals.flow_net_weight_kg)
    > 0.000001 * greatest(abs(flow_totals.flow_net_weight_kg), 1)
