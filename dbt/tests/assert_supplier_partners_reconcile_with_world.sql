-- The partner countries of a supplier-concentration row add up to the declared World total
-- within 5 % (the remainder is areas, groupings and unallocated trade). A warning: a large gap
-- means partners are missing from the shares, not that the shares are wrong.
{{ config(severity = 'warn') }}

select *
from {{ ref('mart_supplier_concentration') }}
where
    world_value_usd > 0
    and abs(total_import_value_usd - world_value_usd) > 0.05 * world_value_usd
