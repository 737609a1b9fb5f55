-- Every national tariff line of every source, with its validity years.
select
    cast(source as varchar) as source,
    cast(product_code as varchar) as product_code,
    cast(valid_from_year as integer) as valid_from_year,
    cast(valid_to_year as integer) as valid_to_year,
    cast(hs6 as varchar) as hs6,
    cast(description as varchar) as description,
    cast(stage as varchar) as stage,
    cast(element as varchar) as element,
    cast(form as varchar) as form,
    cast(element_basis as varchar) as element_basis,
    cast(composition as varchar) as composition,
    cast(licence_required as boolean) as licence_required,
    cast(source_note as varchar) as source_note
from {{ ref('products') }}
