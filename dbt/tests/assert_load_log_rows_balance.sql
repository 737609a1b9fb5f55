-- Every load accounts for every row: rows_read = rows_landed + rows_quarantined.
select *
from {{ ref('load_log') }}
where rows_read != rows_landed + rows_quarantined
