-- The 17 rare-earth elements, plus `REE` for flows of mixed lines not assigned to an element.
with

elements as (
    select * from {{ ref('elements') }}
),

final as (
    select
        cast(symbol as varchar) as element,
        cast(name as varchar) as name,
        cast(atomic_number as integer) as atomic_number,
        cast(ree_group as varchar) as ree_group,
        cast(oxide_formula as varchar) as oxide_formula,
        cast(oxide_element_fraction as double) as oxide_element_fraction,
        cast(source_note as varchar) as source_note
    from elements
    union all
    select
        'REE' as element,
        'rare earths, not assigned to an element' as name,
        cast(null as integer) as atomic_number,
        'mixed' as ree_group,
        cast(null as varchar) as oxide_formula,
        cast(null as double) as oxide_element_fraction,
        'flows of mixed lines (allocation = unassigned)' as source_note
)

select * from final
