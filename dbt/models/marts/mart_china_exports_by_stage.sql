-- China's exports month by month, by supply-chain stage and headline series, per partner and for
-- the World. One source per period, from int_trade_flows__preferred: gacc when gacc has the period,
-- otherwise comtrade; January and February of a year are one unit for that choice (gacc may give
-- them as one M2 period), so a gacc M2 is never set beside comtrade's January and February. Annual
-- rows are left out.
--
-- Series: `rare_earths` = stages compound and metal_alloy of rare-earth lines (element_basis exact,
-- unassigned or assumed_composition): "rare earths (compounds + metals)". `magnets` = stage magnet
-- of lines that hold rare-earth magnets only (element_basis exact or assumed_composition; Comtrade's
-- HS6 850511 also holds ferrite magnets, so it is `other`). `other` = everything else.
--
-- The WLD row is the source's declared World total when it has one for that period, stage and
-- series, else the sum of the country rows (`world_basis`; the rule is the macro world_totals,
-- which the report models share). mom_pct and yoy_pct are on net weight.
with

flows as (
    select * from {{ ref('int_trade_flows__preferred') }}
    where
        reporter_iso3 = 'CHN'
        and flow = 'export'
        and freq in ('M', 'M2')
),

products as (
    select * from {{ ref('dim_product') }}
),

countries as (
    select iso3 from {{ ref('dim_country') }}
    where not is_aggregate
),

classified as (
    select
        flows.source,
        flows.partner_iso3,
        flows.freq,
        flows.period_start,
        flows.year,
        flows.month,
        flows.stage,
        case
            when
                flows.stage in ('compound', 'metal_alloy')
                and products.element_basis in ('exact', 'unassigned', 'assumed_composition')
                then 'rare_earths'
            when
                flows.stage = 'magnet'
                and products.element_basis in ('exact', 'assumed_composition')
                then 'magnets'
            else 'other'
        end as series,
        flows.net_weight_kg,
        flows.value_usd
    from flows
    left join products
        on
            flows.source = products.source
            and flows.product_code = products.product_code
            and flows.year between products.valid_from_year and products.valid_to_year
),

country_rows as (
    select
        classified.period_start,
        classified.freq,
        classified.year,
        classified.month,
        classified.stage,
        classified.series,
        classified.partner_iso3,
        classified.source,
        sum(classified.net_weight_kg) as net_weight_kg,
        sum(classified.value_usd) as value_usd
    from classified
    inner join countries
        on classified.partner_iso3 = countries.iso3
    group by
        classified.period_start,
        classified.freq,
        classified.year,
        classified.month,
        classified.stage,
        classified.series,
        classified.partner_iso3,
        classified.source
),

-- The World row: the declared WLD total, else the sum of the country rows (macro world_totals).
world_rows as (
    {{ world_totals(
        'classified',
        ['period_start', 'freq', 'year', 'month', 'stage', 'series', 'source'],
        ['net_weight_kg', 'value_usd'],
    ) }}
),

all_rows as (
    select
        country_rows.*,
        cast(null as string) as world_basis
    from country_rows
    union all
    select
        period_start,
        freq,
        year,
        month,
        stage,
        series,
        partner_iso3,
        source,
        net_weight_kg,
        value_usd,
        world_basis
    from world_rows
),

indexed as (
    select
        all_rows.*,
        all_rows.year * 12 + all_rows.month as month_index
    from all_rows
),

-- Prior-year January + February of each series, for an M2 period compared with monthly data.
jan_feb_sums as (
    select
        stage,
        series,
        partner_iso3,
        source,
        year,
        sum(net_weight_kg) as net_weight_kg
    from indexed
    where freq = 'M' and month <= 2
    group by stage, series, partner_iso3, source, year
),

compared as (
    select
        current_period.*,
        case
            when current_period.freq = 'M' then previous_month.net_weight_kg
        end as previous_month_kg,
        case
            when current_period.freq = 'M' then year_before.net_weight_kg
            when current_period.freq = 'M2' then coalesce(year_before.net_weight_kg, jan_feb_before.net_weight_kg)
        end as year_before_kg
    from indexed as current_period
    left join indexed as previous_month
        on
            current_period.stage = previous_month.stage
            and current_period.series = previous_month.series
            and current_period.partner_iso3 = previous_month.partner_iso3
            and current_period.source = previous_month.source
            and previous_month.freq = 'M'
            and current_period.month_index - 1 = previous_month.month_index
    left join indexed as year_before
        on
            current_period.stage = year_before.stage
            and current_period.series = year_before.series
            and current_period.partner_iso3 = year_before.partner_iso3
            and current_period.source = year_before.source
            and current_period.freq = year_before.freq
            and current_period.month_index - 12 = year_before.month_index
    left join jan_feb_sums as jan_feb_before
        on
            current_period.stage = jan_feb_before.stage
            and current_period.series = jan_feb_before.series
            and current_period.partner_iso3 = jan_feb_before.partner_iso3
            and current_period.source = jan_feb_before.source
            and current_period.freq = 'M2'
            and current_period.year - 1 = jan_feb_before.year
),

final as (
    select
        cast(period_start as date) as period_start,
        cast(freq as string) as freq,
        cast(year as integer) as year,
        cast(month as integer) as month,
        cast(stage as string) as stage,
        cast(series as string) as series,
        cast(partner_iso3 as string) as partner_iso3,
        cast(source as string) as source,
        cast(world_basis as string) as world_basis,
        cast(net_weight_kg as double) as net_weight_kg,
        cast(value_usd as double) as value_usd,
        cast(
            case
                when previous_month_kg != 0 then 100.0 * (net_weight_kg - previous_month_kg) / previous_month_kg
            end as double
        ) as mom_pct,
        cast(
            case
                when year_before_kg != 0 then 100.0 * (net_weight_kg - year_before_kg) / year_before_kg
            end as double
        ) as yoy_pct
    from compared
)

select * from final
