-- The current revision of every price assessment (source, product, basis, date).
{{ latest_revision(ref('stg_prices__assessments'), ['price_source', 'product', 'basis', 'price_date']) }}
