-- Export-control regimes whose suspension ends today or later: the date supply risk can return.
-- Counted from the build date (current_date when dbt built the table).
with

controls as (
    select * from {{ ref('dim_export_control') }}
    where suspended_until >= current_date
),

regimes as (
    select
        regime_id,
        max(suspended_until) as suspended_until,
        {{ dbt.listagg('element', "', '", 'order by element') }} as elements
    from controls
    group by regime_id
),

counted as (
    select
        regime_id,
        elements,
        suspended_until,
        {{ dbt.datediff('current_date', 'suspended_until', 'day') }}
            as days_until
    from regimes
),

final as (
    select
        cast(regime_id as varchar) as regime_id,
        cast(elements as varchar) as elements,
        cast(suspended_until as date) as suspended_until,
        cast(days_until as integer) as days_until
    from counted
)

select * from final
