-- The 17 rare-earth elements, plus `REE` for flows of mixed lines not assigned to an element.
with

elements as (
    select * from {{ ref('elements') }}
),

final as (
    select
        cast(symbol as string) as element,
        cast(name as string) as name,
        cast(atomic_number as integer) as atomic_number,
        cast(ree_group as string) as ree_group,
        cast(oxide_formula as string) as oxide_formula,
        cast(oxide_element_fraction as double) as oxide_element_fraction,
        cast(source_note as string) as source_note
    from elements
    union all
    select
        'REE' as element,
        'rare earths, not assigned to an element' as name,
        cast(null as integer) as atomic_number,
        'mixed' as ree_group,
        cast(null as string) as oxide_formula,
        cast(null as double) as oxide_element_fraction,
        'flows of mixed lines (allocation = unassigned)' as source_note
)

select * from final
