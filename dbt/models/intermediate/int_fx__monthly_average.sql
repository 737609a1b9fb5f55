-- The average of each month's daily rates: the rate a monthly customs value in that currency uses.
with

rates as (
    select * from {{ ref('int_fx__current') }}
),

monthly as (
    select
        currency,
        cast(date_trunc('month', rate_date) as date) as month_start,
        avg(per_usd) as per_usd,
        count(*) as rate_days
    from rates
    group by 1, 2
)

select * from monthly
