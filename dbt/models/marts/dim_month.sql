-- The calendar of months: one row per month from the first to the last month that the trade
-- flows or the prices cover. A trade row covers its period_months (int_trade_flows__periods): an
-- annual row January to December of its year, an M2 row (China's January + February) both months,
-- so every period_start of a mart is a row here.
with

trade_periods as (
    select
        period_start as first_month,
        cast({{ dbt.dateadd('month', 'period_months - 1', 'period_start') }} as date) as last_month
    from {{ ref('int_trade_flows__periods') }}
),

price_periods as (
    select
        cast({{ dbt.date_trunc('month', 'price_date') }} as date) as first_month,
        cast({{ dbt.date_trunc('month', 'price_date') }} as date) as last_month
    from {{ ref('fct_prices') }}
),

covered as (
    select
        first_month,
        last_month
    from trade_periods
    union all
    select
        first_month,
        last_month
    from price_periods
),

bounds as (
    select
        min(first_month) as first_month,
        max(last_month) as last_month
    from covered
),

spine as (
    {{ month_spine('bounds', 'first_month', 'last_month') }}
),

calendar as (
    select
        month_start,
        cast(extract(year from month_start) as integer) as calendar_year,
        cast(extract(month from month_start) as integer) as calendar_month
    from spine
),

final as (
    select
        cast(month_start as date) as month_start,
        cast(calendar_year as integer) as year,
        cast(calendar_month as integer) as month,
        cast(floor((calendar_month - 1) / 3.0) + 1 as integer) as quarter,
        cast(
            cast(calendar_year as string) || '-' || lpad(cast(calendar_month as string), 2, '0') as string
        ) as month_label
    from calendar
)

select * from final
