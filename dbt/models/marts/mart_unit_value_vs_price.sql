-- Declared customs unit values (value_usd / net_weight_kg) of element-specific lines
-- (dim_product.element_basis = 'exact') against the mean benchmark price of the same element and
-- form over the same period (the month; both months of an M2 period; the twelve months of an
-- annual one), on a comparable basis: fob_china for exports; for imports cif_north_america when
-- the importer is the USA, Canada or Mexico, else cif_europe. When that basis has no price in the
-- period, another basis not quoted with VAT is used (cif first, then fob_china, then ddp_china);
-- ex-works prices quoted with China's VAT are never used. `price_basis` names the basis used.
with

flows as (
    select * from {{ ref('int_trade_flows__periods') }}
    where flow in ('import', 'export')
),

products as (
    select * from {{ ref('dim_product') }}
    where element_basis = 'exact'
),

prices as (
    select * from {{ ref('fct_prices') }}
    where
        not vat_removed
        and usd_per_kg_mid is not null
),

lines as (
    select
        flows.source,
        flows.reporter_iso3,
        flows.partner_iso3,
        flows.flow,
        flows.freq,
        flows.period_start,
        flows.product_code,
        products.element,
        products.form,
        flows.net_weight_kg,
        flows.value_usd,
        case
            when flows.flow = 'export' then 'fob_china'
            when flows.reporter_iso3 in ('USA', 'CAN', 'MEX') then 'cif_north_america'
            else 'cif_europe'
        end as preferred_basis,
        flows.period_end
    from flows
    inner join products
        on
            flows.source = products.source
            and flows.product_code = products.product_code
            and flows.year between products.valid_from_year and products.valid_to_year
),

-- The mean price of each element, form and basis over each distinct period the lines need.
periods as (
    select distinct
        element,
        form,
        period_start,
        period_end
    from lines
),

benchmarks as (
    select
        periods.element,
        periods.form,
        periods.period_start,
        periods.period_end,
        prices.basis,
        avg(prices.usd_per_kg_mid) as benchmark_usd_per_kg,
        count(*) as price_observations
    from periods
    inner join prices
        on
            periods.element = prices.element
            and periods.form = prices.form
            and periods.period_start <= prices.price_date
            and periods.period_end > prices.price_date
    group by
        periods.element,
        periods.form,
        periods.period_start,
        periods.period_end,
        prices.basis
),

candidates as (
    select
        lines.source,
        lines.reporter_iso3,
        lines.partner_iso3,
        lines.flow,
        lines.freq,
        lines.period_start,
        lines.product_code,
        benchmarks.basis,
        benchmarks.benchmark_usd_per_kg,
        benchmarks.price_observations,
        row_number() over (
            partition by
                lines.source,
                lines.reporter_iso3,
                lines.partner_iso3,
                lines.flow,
                lines.freq,
                lines.period_start,
                lines.product_code
            order by
                case
                    when benchmarks.basis = lines.preferred_basis then 1
                    when benchmarks.basis like 'cif%' then 2
                    when benchmarks.basis = 'fob_china' then 3
                    when benchmarks.basis = 'ddp_china' then 4
                    else 5
                end asc,
                benchmarks.basis asc
        ) as basis_rank
    from lines
    inner join benchmarks
        on
            lines.element = benchmarks.element
            and lines.form = benchmarks.form
            and lines.period_start = benchmarks.period_start
            and lines.period_end = benchmarks.period_end
),

chosen as (
    select * from candidates
    where basis_rank = 1
),

priced as (
    select
        lines.*,
        chosen.basis as price_basis,
        chosen.benchmark_usd_per_kg,
        coalesce(chosen.price_observations, 0) as price_observations,
        case
            when lines.net_weight_kg > 0 then lines.value_usd / lines.net_weight_kg
        end as unit_value_usd_per_kg
    from lines
    left join chosen
        on
            lines.source = chosen.source
            and lines.reporter_iso3 = chosen.reporter_iso3
            and lines.partner_iso3 = chosen.partner_iso3
            and lines.flow = chosen.flow
            and lines.freq = chosen.freq
            and lines.period_start = chosen.period_start
            and lines.product_code = chosen.product_code
),

final as (
    select
        cast(source as string) as source,
        cast(reporter_iso3 as string) as reporter_iso3,
        cast(partner_iso3 as string) as partner_iso3,
        cast(flow as string) as flow,
        cast(freq as string) as freq,
        cast(period_start as date) as period_start,
        cast(product_code as string) as product_code,
        cast(element as string) as element,
        cast(form as string) as form,
        cast(net_weight_kg as double) as net_weight_kg,
        cast(value_usd as double) as value_usd,
        cast(unit_value_usd_per_kg as double) as unit_value_usd_per_kg,
        cast(price_basis as string) as price_basis,
        cast(benchmark_usd_per_kg as double) as benchmark_usd_per_kg,
        cast(price_observations as bigint) as price_observations,
        cast(
            case
                when benchmark_usd_per_kg != 0
                    then 100.0 * (unit_value_usd_per_kg - benchmark_usd_per_kg) / benchmark_usd_per_kg
            end as double
        ) as premium_pct
    from priced
)

select * from final
