-- Status history of each export-control regime and element: one row per interval
-- [valid_from, valid_to) from the seed export_control_status, each with its source, and which
-- interval holds on the as-of date (var as_of_date, default the build date: macros/as_of_date.sql).
with

statuses as (
    select * from {{ ref('export_control_status') }}
),

final as (
    select
        cast(regime_id || '|' || coalesce(element, '') || '|' || cast(valid_from as string) as string)
            as status_interval_id,
        cast(regime_id || '|' || coalesce(element, '') as string) as regime_element_id,
        cast(regime_id as string) as regime_id,
        cast(element as string) as element,
        cast(status as string) as status,
        cast(
            case status
                when 'announced_not_effective' then 'announced, not yet in effect'
                when 'in_force' then 'in force'
                when 'suspended' then 'suspended'
                when 'expired_status_unconfirmed'
                    then 'suspension expired; status after expiry unconfirmed'
            end as string
        ) as status_label,
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,
        cast(status_note as string) as status_note,
        cast(source_note as string) as source_note,
        cast({{ as_of_date() }} as date) as as_of_date,
        cast(
            valid_from <= {{ as_of_date() }}
            and (valid_to is null or {{ as_of_date() }} < valid_to) as boolean
        ) as holds_on_as_of_date
    from statuses
)

select * from final
