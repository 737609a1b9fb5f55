-- The current revision of every daily rate (currency, date). USD is added at 1.0 so that every
-- conversion is the same join.
with

rates as (
    {{ latest_revision(ref('stg_fx__rates'), ['currency', 'rate_date']) }}
)

select
    currency,
    rate_date,
    per_usd
from rates
