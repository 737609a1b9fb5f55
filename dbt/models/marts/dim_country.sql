-- Countries and the World total, with every source's code for them.
select
    cast(iso3 as string) as iso3,
    cast(name as string) as name,
    cast(m49 as integer) as m49,
    cast(census_code as string) as census_code,
    cast(gacc_code as string) as gacc_code,
    cast(gacc_name as string) as gacc_name,
    cast(is_aggregate as boolean) as is_aggregate,
    cast(verified as boolean) as verified,
    cast(source_note as string) as source_note
from {{ ref('countries') }}
