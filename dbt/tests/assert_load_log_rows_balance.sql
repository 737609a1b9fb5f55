-- Every load accounts for every row: rows_read = rows_landed + rows_quarantined + rows_out_of_scope,
-- and its out-of-scope rows per reason add up to rows_out_of_scope.
with

loads as (
    select
        *,
        {{ json_map_sum('out_of_scope_reasons') }} as rows_by_reason
    from {{ ref('load_log') }}
)

select *
from loads
where
    rows_read != rows_landed + rows_quarantined + rows_out_of_scope
    or rows_by_reason != rows_out_of_scope
