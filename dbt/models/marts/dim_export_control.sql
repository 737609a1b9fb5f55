-- China's export-control regimes, one row per regime and element (element NULL for regimes
-- that touch no rare-earth element, `REE` for rules on rare earths as a whole).
select
    cast(regime_id || '|' || coalesce(element, '') as varchar) as regime_element_id,
    cast(regime_id as varchar) as regime_id,
    cast(element as varchar) as element,
    cast(announced_date as date) as announced_date,
    cast(effective_date as date) as effective_date,
    cast(suspended_from as date) as suspended_from,
    cast(suspended_until as date) as suspended_until,
    cast(scope as varchar) as scope,
    cast(product_scope as varchar) as product_scope,
    cast(status_note as varchar) as status_note,
    cast(source_note as varchar) as source_note
from {{ ref('export_controls') }}
