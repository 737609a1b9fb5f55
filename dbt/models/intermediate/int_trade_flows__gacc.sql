-- GACC flows in the trade-flow shape: rows summed over trade mode and registration place (slices
-- of one flow), the world total kept as WLD, CNY converted with the period's average rate (for
-- the January+February period, the average of both months' daily rates).
with

records as (
    select * from {{ ref('int_gacc__current') }}
),

cny_rates as (
    select
        month_start,
        per_usd,
        rate_days
    from {{ ref('int_fx__monthly_average') }}
    where currency = 'CNY'
),

periods as (
    select distinct
        freq,
        period_start
    from records
),

period_rates as (
    -- one rate per (freq, period_start): M = that month; M2 = January and February together,
    -- weighted by their days of quotes
    select
        periods.freq,
        periods.period_start,
        sum(cny_rates.per_usd * cny_rates.rate_days) / sum(cny_rates.rate_days) as cny_per_usd
    from periods
    inner join cny_rates
        on
            periods.period_start <= cny_rates.month_start
            and cny_rates.month_start
            < periods.period_start + (case when periods.freq = 'M2' then 2 else 1 end) * interval 1 month
    group by periods.freq, periods.period_start
),

summed as (
    select
        reporter_iso3,
        partner_iso3,
        flow,
        freq,
        period_start,
        year,
        month,
        product_code,
        unit_1,
        currency,
        load_id,
        -- kg only when every summed part declared a mass: a partial sum would understate it
        case when count(net_weight_kg) = count(*) then sum(net_weight_kg) end as net_weight_kg,
        sum(quantity_1) as quantity,
        sum(value) as value
    from records
    group by all
),

flows as (
    select
        'gacc' as source,
        summed.reporter_iso3,
        summed.partner_iso3,
        summed.flow,
        summed.freq,
        summed.period_start,
        summed.year,
        summed.month,
        summed.product_code,
        summed.net_weight_kg,
        summed.quantity,
        case summed.unit_1 when '千克' then 'kg' when '吨' then 't' when '个' then 'u' else summed.unit_1 end
            as quantity_unit,
        case
            when summed.currency = 'USD' then summed.value
            else summed.value / period_rates.cny_per_usd
        end as value_usd,
        case summed.flow when 'export' then 'FOB' else 'CIF' end as value_basis,
        summed.load_id
    from summed
    left join period_rates
        on summed.freq = period_rates.freq and summed.period_start = period_rates.period_start
)

select * from flows
