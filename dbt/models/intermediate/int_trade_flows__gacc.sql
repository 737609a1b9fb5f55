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
    -- the (freq, period_start) of the staged rows: the same as those of the current revisions
    -- (each period keeps its latest file). Not from `records`: read twice, DuckDB materializes
    -- it whole, and a period_start filter on the view, which does not reach this branch (behind
    -- the left join), then no longer reaches `summed` either.
    select distinct
        freq,
        period_start
    from {{ ref('stg_gacc__records') }}
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
        quantity_unit,
        value_basis,
        currency,
        load_id,
        -- kg only when every summed part declared a mass: a partial sum would understate it
        case when count(net_weight_kg) = count(*) then sum(net_weight_kg) end as net_weight_kg,
        sum(quantity_1) as quantity,
        sum(value) as value
    from records
    group by all
),

families as (
    -- a parent is an 8-digit line with another code in its family in the same load, flow, period
    -- and partner: a longer line starting with its 8 digits, or, for an unsplit xxxxxx00 line,
    -- any other line of its HS6. Window partitions rather than a self-join: they all contain
    -- period_start, so an incremental build's filter on it goes through them to the records.
    -- Several rows of one code (other units or currencies) are still one code: min/max, not a
    -- count.
    select
        summed.*,
        coalesce(
            length(summed.product_code) = 8
            and (
                min(summed.product_code) over same_8_digits != max(summed.product_code) over same_8_digits
                or (
                    summed.product_code like '%00'
                    and min(summed.product_code) over same_hs6 != max(summed.product_code) over same_hs6
                )
            ),
            false
        ) as is_parent
    from summed
    window
        same_8_digits as (
            partition by
                summed.load_id,
                summed.flow,
                summed.freq,
                summed.period_start,
                summed.partner_iso3,
                substr(summed.product_code, 1, 8)
        ),
        same_hs6 as (
            partition by
                summed.load_id,
                summed.flow,
                summed.freq,
                summed.period_start,
                summed.partner_iso3,
                substr(summed.product_code, 1, 6)
        )
),

most_detailed as (
    select families.*
    from families
    where not families.is_parent
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
        most_detailed.quantity_unit,
        case
            when most_detailed.currency = 'USD' then most_detailed.value
            else most_detailed.value / period_rates.cny_per_usd
        end as value_usd,
        most_detailed.value_basis,
        most_detailed.load_id
    from most_detailed
    left join period_rates
        on
            most_detailed.freq = period_rates.freq
            and most_detailed.period_start = period_rates.period_start
)

select * from flows
