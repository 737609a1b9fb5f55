-- GACC flows in the trade-flow shape: rows summed over trade mode and registration place (slices
-- of one flow), the world total kept as WLD, CNY converted with the period's average rate (for
-- the January+February period, the average of both months' daily rates).
-- A file may carry a line and its own sub-lines: an 8-digit code (28469019) and 10-digit codes
-- under it (2846901920, ...), or an unsplit 8-digit code ending in 00 (28461000) and the lines
-- of the same HS6 (28461010). Added up at HS6 they would count the goods twice, so only the most
-- detailed lines are kept: a parent that has a sub-line in the same load, flow, period and
-- partner is left out here (it stays in stg_gacc__records and int_gacc__current). A parent
-- without sub-lines for that partner is kept.
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

parent_lines as (
    -- the 8-digit lines that have a more detailed line of their own in the same load, flow,
    -- period and partner (the prefix of an unsplit xxxxxx00 line is its HS6)
    select distinct
        parent.load_id,
        parent.flow,
        parent.freq,
        parent.period_start,
        parent.partner_iso3,
        parent.product_code
    from summed as parent
    inner join summed as detail
        on
            parent.load_id = detail.load_id
            and parent.flow = detail.flow
            and parent.freq = detail.freq
            and parent.period_start = detail.period_start
            and parent.partner_iso3 = detail.partner_iso3
            and parent.product_code != detail.product_code
    where
        length(parent.product_code) = 8
        and (
            (
                parent.product_code like '%00'
                and substr(detail.product_code, 1, 6) = substr(parent.product_code, 1, 6)
            )
            or substr(detail.product_code, 1, 8) = parent.product_code
        )
),

most_detailed as (
    select summed.*
    from summed
    left join parent_lines
        on
            summed.load_id = parent_lines.load_id
            and summed.flow = parent_lines.flow
            and summed.freq = parent_lines.freq
            and summed.period_start = parent_lines.period_start
            and summed.partner_iso3 = parent_lines.partner_iso3
            and summed.product_code = parent_lines.product_code
    where parent_lines.product_code is null
),

flows as (
    select
        'gacc' as source,
        most_detailed.reporter_iso3,
        most_detailed.partner_iso3,
        most_detailed.flow,
        most_detailed.freq,
        most_detailed.period_start,
        most_detailed.year,
        most_detailed.month,
        most_detailed.product_code,
        most_detailed.net_weight_kg,
        most_detailed.quantity,
        case most_detailed.unit_1
            when '千克' then 'kg'
            when '吨' then 't'
            when '个' then 'u'
            else most_detailed.unit_1
        end as quantity_unit,
        case
            when most_detailed.currency = 'USD' then most_detailed.value
            else most_detailed.value / period_rates.cny_per_usd
        end as value_usd,
        case most_detailed.flow when 'export' then 'FOB' else 'CIF' end as value_basis,
        most_detailed.load_id
    from most_detailed
    left join period_rates
        on
            most_detailed.freq = period_rates.freq
            and most_detailed.period_start = period_rates.period_start
)

select * from flows
