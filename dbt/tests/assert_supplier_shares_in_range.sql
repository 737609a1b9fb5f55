-- HHI lies within 0–10,000, shares within 0–1, top-1 ≤ top-3, and HHI ≥ 10,000 / supplier count.
select *
from {{ ref('mart_supplier_concentration') }}
where
    hhi < 0 or hhi > 10000.0001
    or top1_share > top3_share + 1e-9
    or top3_share > 1.0000001
    or china_share < 0 or china_share > 1.0000001
    or hhi < 10000.0 / supplier_count - 0.0001
