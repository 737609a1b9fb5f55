-- Export-control suspensions whose end falls within `suspension_expiry_window_days` of the as-of
-- date (var as_of_date, default the build date): upcoming ones (the date supply risk can return)
-- and recently expired ones (supply risk may have returned), with the regime's status on the
-- as-of date from dim_export_control_status (after an expiry with no source on what followed:
-- expired_status_unconfirmed).
{%- set window = var('suspension_expiry_window_days') | string -%}
{%- if not modules.re.fullmatch('[0-9]+', window) -%}
    {{ exceptions.raise_compiler_error(
        "dbt var suspension_expiry_window_days must be a whole number of days, got '" ~ window
        ~ "' (dbt/dbt_project.yml vars or --vars)") }}
{%- endif %}
with

statuses as (
    select * from {{ ref('dim_export_control_status') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

-- the latest suspension end of each regime and element
suspensions as (
    select
        regime_id,
        element,
        max(valid_to) as suspended_until
    from statuses
    where status = 'suspended' and valid_to is not null
    group by regime_id, element
),

regimes as (
    select
        regime_id,
        max(suspended_until) as suspended_until,
        {{ dbt.listagg('element', "', '", 'order by element') }} as elements
    from suspensions
    group by regime_id
),

status_now as (
    select
        regime_id,
        {{ dbt.listagg('distinct status', "', '", 'order by status') }} as status_as_of
    from statuses
    where holds_on_as_of_date
    group by regime_id
),

counted as (
    select
        regimes.regime_id,
        regimes.elements,
        regimes.suspended_until,
        as_of.as_of_date,
        {{ dbt.datediff('as_of.as_of_date', 'regimes.suspended_until', 'day') }}
            as days_until,
        status_now.status_as_of
    from regimes
    cross join as_of
    left join status_now
        on regimes.regime_id = status_now.regime_id
),

final as (
    select
        cast(regime_id as string) as regime_id,
        cast(elements as string) as elements,
        cast(suspended_until as date) as suspended_until,
        cast(days_until as integer) as days_until,
        cast(case when days_until > 0 then 'upcoming' else 'expired' end as string) as expiry_state,
        cast(case when days_until <= 0 then -days_until end as integer) as days_since_expiry,
        cast(status_as_of as string) as status_as_of,
        cast(as_of_date as date) as as_of_date
    from counted
    where days_until between -{{ window }} and {{ window }}
)

select * from final
