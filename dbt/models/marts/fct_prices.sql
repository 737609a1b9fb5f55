-- Benchmark prices normalised to USD per kg without VAT. A price on a date uses that date's
-- rate, or the latest earlier one within `fx_max_carry_days`; `fx_rate_date` says which.
with

prices as (
    select * from {{ ref('int_prices__current') }}
),

rates as (
    select * from {{ ref('int_fx__current') }}
),

rate_candidates as (
    select
        prices.price_source,
        prices.product,
        prices.basis,
        prices.price_date,
        rates.rate_date,
        rates.per_usd,
        row_number() over (
            partition by prices.price_source, prices.product, prices.basis, prices.price_date
            order by rates.rate_date desc
        ) as recency
    from prices
    inner join rates
        on
            prices.currency = rates.currency
            and prices.price_date >= rates.rate_date
            and rates.rate_date > prices.price_date - {{ var('fx_max_carry_days') }}
    where prices.currency != 'USD'
),

priced as (
    select
        prices.*,
        case when prices.currency = 'USD' then 1.0 else rate_candidates.per_usd end as fx_per_usd,
        case when prices.currency = 'USD' then prices.price_date else rate_candidates.rate_date end
            as fx_rate_date,
        case when prices.unit = 't' then 1000.0 else 1.0 end as kg_per_unit,
        case
            when prices.basis = 'exw_china_vat_incl' then 1.0 + {{ var('china_vat_rate') }}
            else 1.0
        end as vat_divisor
    from prices
    left join rate_candidates
        on
            prices.price_source = rate_candidates.price_source
            and prices.product = rate_candidates.product
            and prices.basis = rate_candidates.basis
            and prices.price_date = rate_candidates.price_date
            and rate_candidates.recency = 1
),

final as (
    select
        cast(price_date as date) as price_date,
        cast(price_source as string) as source,
        cast(product as string) as product,
        cast(element as string) as element,
        cast(form as string) as form,
        cast(purity as string) as purity,
        cast(basis as string) as basis,
        cast(currency as string) as currency,
        cast(unit as string) as unit,
        cast(price_low as double) as price_low,
        cast(price_high as double) as price_high,
        cast((price_low + price_high) / 2 as double) as price_mid,
        cast(price_low / fx_per_usd / kg_per_unit / vat_divisor as double) as usd_per_kg_low,
        cast(price_high / fx_per_usd / kg_per_unit / vat_divisor as double) as usd_per_kg_high,
        cast((price_low + price_high) / 2 / fx_per_usd / kg_per_unit / vat_divisor as double)
            as usd_per_kg_mid,
        cast(vat_divisor > 1.0 as boolean) as vat_removed,
        cast(fx_per_usd as double) as fx_per_usd,
        cast(fx_rate_date as date) as fx_rate_date,
        cast(
            case
                when currency = 'USD' then 'not_needed'
                when fx_rate_date is null then 'missing'
                when fx_rate_date = price_date then 'same_day'
                else 'latest_earlier'
            end as string
        ) as fx_rule
    from priced
)

select * from final
