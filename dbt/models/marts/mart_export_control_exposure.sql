-- Monthly export flows of the elements named by China's export-control regimes, set against each
-- regime's effective date: months from it, a before/after window, the regime's status on the
-- period's first day (dim_export_control_status) and whether it was in force then (NULL when a
-- suspension had ended with no source on what followed). Element flows come from exact
-- and assumed_composition allocations only (mixed lines carry no element). Sources stay side by
-- side (one row per source); they are never added.
with

element_flows as (
    select * from {{ ref('fct_element_flows') }}
    where
        flow = 'export'
        and freq in ('M', 'M2')
        and allocation in ('exact', 'assumed_composition')
),

controls as (
    select * from {{ ref('dim_export_control') }}
    where
        element is not null
        and element != 'REE'
),

statuses as (
    select * from {{ ref('dim_export_control_status') }}
),

monthly as (
    select
        source,
        reporter_iso3,
        partner_iso3,
        element,
        freq,
        period_start,
        year,
        month,
        sum(element_kg) as element_kg,
        sum(reo_kg) as reo_kg,
        sum(value_usd) as value_usd
    from element_flows
    group by
        source,
        reporter_iso3,
        partner_iso3,
        element,
        freq,
        period_start,
        year,
        month
),

exposed as (
    select
        controls.regime_id,
        monthly.element,
        monthly.period_start,
        monthly.freq,
        monthly.reporter_iso3,
        monthly.partner_iso3,
        monthly.source,
        monthly.element_kg,
        monthly.reo_kg,
        monthly.value_usd,
        controls.effective_date,
        controls.suspended_from,
        controls.suspended_until,
        (monthly.year - cast(extract(year from controls.effective_date) as integer)) * 12
        + monthly.month - cast(extract(month from controls.effective_date) as integer) as months_from_effective,
        coalesce(statuses.status, 'not_yet_announced') as status_on_period_start
    from monthly
    inner join controls
        on monthly.element = controls.element
    left join statuses
        on
            controls.regime_id = statuses.regime_id
            and controls.element = statuses.element
            and monthly.period_start >= statuses.valid_from
            and (statuses.valid_to is null or monthly.period_start < statuses.valid_to)
),

final as (
    select
        cast(regime_id as string) as regime_id,
        cast(element as string) as element,
        cast(period_start as date) as period_start,
        cast(freq as string) as freq,
        cast(reporter_iso3 as string) as reporter_iso3,
        cast(partner_iso3 as string) as partner_iso3,
        cast(source as string) as source,
        cast(element_kg as double) as element_kg,
        cast(reo_kg as double) as reo_kg,
        cast(value_usd as double) as value_usd,
        cast(effective_date as date) as effective_date,
        cast(months_from_effective as integer) as months_from_effective,
        cast(
            case
                when months_from_effective between -6 and -1 then 'before'
                when months_from_effective between 0 and 5 then 'after'
                else 'outside'
            end as string
        ) as {{ adapter.quote('window') }},
        cast(
            case
                when status_on_period_start = 'in_force' then true
                when status_on_period_start = 'expired_status_unconfirmed' then null
                else false
            end as boolean
        ) as in_force,
        cast(status_on_period_start as string) as status_on_period_start,
        cast(suspended_until as date) as suspended_until,
        cast(
            case
                when suspended_until > {{ as_of_date() }}
                    then {{ dbt.datediff(as_of_date(), 'suspended_until', 'day') }}
            end as integer
        ) as days_to_suspension_expiry
    from exposed
)

select * from final
