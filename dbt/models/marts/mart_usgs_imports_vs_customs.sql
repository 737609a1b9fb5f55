-- USGS's U.S. imports of rare-earth compounds and metals (t) beside what customs declared for the
-- same year: Census and Comtrade U.S. imports from the World (HS 2846 for compounds, 280530 for
-- metals), one row per customs source, never added together. USGS counts rare-earth-oxide
-- equivalent where the release says so, customs the net weight of the goods: the two measure
-- different things and a gap is expected; the mart sets them side by side, it does not reconcile.
with

usgs_imports as (
    select
        year,
        case
            when lower(statistic_detail) like '%: compounds%' then 'compounds'
            when lower(statistic_detail) like '%: metals%' then 'metals'
        end as form,
        mcs_edition,
        statistic_detail,
        value_flag,
        value,
        source_file
    from {{ ref('fct_usgs_statistics') }}
    where
        measure = 'imports'
        and country = 'United States'
        and lower(commodity) = 'rare earths'
),

-- The salient CSV and the long release word a statistic differently: per form and year, the
-- latest edition's figure.
usgs_latest as (
    select *
    from usgs_imports
    where form is not null
    qualify row_number() over (
        partition by form, year
        order by mcs_edition desc nulls last, statistic_detail asc
    ) = 1
),

customs_lines as (
    select
        source,
        year,
        freq,
        period_start,
        net_weight_kg,
        value_usd,
        case when hs6 in ('284610', '284690') then 'compounds' when hs6 = '280530' then 'metals' end
            as form
    from {{ ref('fct_trade_flows') }}
    where
        reporter_iso3 = 'USA'
        and partner_iso3 = 'WLD'
        and flow = 'import'
        and hs6 in ('284610', '284690', '280530')
),

-- A source's annual figure when it has one for the year, else the sum of its months (with the
-- number of months, so a part year is visible).
customs_years as (
    select
        source,
        year,
        form,
        case when count(*) filter (where freq = 'A') > 0 then 'A' else 'M' end as freq,
        coalesce(
            sum(net_weight_kg) filter (where freq = 'A'),
            sum(net_weight_kg) filter (where freq in ('M', 'M2'))
        ) as net_weight_kg,
        coalesce(
            sum(value_usd) filter (where freq = 'A'),
            sum(value_usd) filter (where freq in ('M', 'M2'))
        ) as value_usd,
        case
            when count(*) filter (where freq = 'A') > 0 then 12
            else
                count(distinct month(period_start)) filter (where freq = 'M')
                + 2 * count(distinct period_start) filter (where freq = 'M2')
        end as months
    from customs_lines
    group by source, year, form
)

select
    cast(usgs_latest.year as integer) as year,
    cast(usgs_latest.form as string) as form,
    cast(usgs_latest.mcs_edition as integer) as usgs_mcs_edition,
    cast(usgs_latest.statistic_detail as string) as usgs_statistic_detail,
    cast(usgs_latest.value_flag as string) as usgs_value_flag,
    cast(usgs_latest.value as double) as usgs_t,
    cast(customs_years.source as string) as customs_source,
    cast(customs_years.freq as string) as customs_freq,
    cast(customs_years.months as integer) as customs_months,
    cast(customs_years.net_weight_kg / 1000.0 as double) as customs_t,
    cast(customs_years.value_usd as double) as customs_value_usd,
    cast(usgs_latest.value - customs_years.net_weight_kg / 1000.0 as double) as usgs_minus_customs_t
from usgs_latest
left join customs_years
    on
        usgs_latest.year = customs_years.year
        and usgs_latest.form = customs_years.form
