-- Every national tariff line of every source, with its validity years.
select
    cast(source as string) as source,
    cast(product_code as string) as product_code,
    cast(valid_from_year as integer) as valid_from_year,
    cast(valid_to_year as integer) as valid_to_year,
    cast(hs6 as string) as hs6,
    cast(description as string) as description,
    cast(stage as string) as stage,
    cast(element as string) as element,
    cast(form as string) as form,
    cast(element_basis as string) as element_basis,
    cast(composition as string) as composition,
    cast(licence_required as boolean) as licence_required,
    cast(source_note as string) as source_note
from {{ ref('products') }}
