-- China's export-control regimes, one row per regime and element (element NULL for regimes
-- that touch no rare-earth element, `REE` for rules on rare earths as a whole), with the status
-- on the as-of date (var as_of_date, default the build date) from dim_export_control_status.
-- Before a regime's announcement no interval holds and the status is not_yet_announced.
with

controls as (
    select * from {{ ref('export_controls') }}
),

as_of as (
    select * from {{ ref('dim_export_control_status') }}
    where holds_on_as_of_date
),

final as (
    select
        cast(controls.regime_id || '|' || coalesce(controls.element, '') as string) as regime_element_id,
        cast(controls.regime_id as string) as regime_id,
        cast(controls.element as string) as element,
        cast(controls.announced_date as date) as announced_date,
        cast(controls.effective_date as date) as effective_date,
        cast(controls.suspended_from as date) as suspended_from,
        cast(controls.suspended_until as date) as suspended_until,
        cast(controls.scope as string) as scope,
        cast(controls.product_scope as string) as product_scope,
        cast(controls.status_note as string) as status_note,
        cast(controls.source_note as string) as source_note,
        cast({{ as_of_date() }} as date) as as_of_date,
        cast(
            coalesce(
                as_of.status,
                case when {{ as_of_date() }} < controls.announced_date then 'not_yet_announced' end
            ) as string
        ) as status_as_of,
        cast(
            coalesce(
                as_of.status_label,
                case when {{ as_of_date() }} < controls.announced_date then 'not yet announced' end
            ) as string
        ) as status_label_as_of,
        cast(as_of.valid_from as date) as status_valid_from,
        cast(as_of.valid_to as date) as status_valid_to,
        cast(as_of.status_note as string) as status_note_as_of,
        cast(as_of.source_note as string) as status_source_note
    from controls
    left join as_of
        on
            controls.regime_id = as_of.regime_id
            and controls.element is not distinct from as_of.element
)

select * from final
