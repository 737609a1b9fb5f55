-- Trade flows turned into flows of each element. Lines that are not rare-earth specific
-- (253090, 382499, 720299, alnico and ferrite magnets) carry no element and are left out.
-- Mixed lines (`unassigned`) imported from an exporter whose own element lines for that importer,
-- HS6 and period exist (GACC for China) are split in the proportions of those lines
-- (`exporter_lines`; int_element_flows__exporter_line_shares).
-- Incremental by period_start, like fct_trade_flows (macros/incremental.sql); a changed January
-- also rebuilds February, whose imports take the shares of China's January+February (M2) period.
{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook="{{ incremental_pre_hook('period_start') }}",
        **partition_config('period_start')
    )
}}
with

flows as (
    select * from {{ ref('fct_trade_flows') }}
    {%- if is_incremental() %}
        where {{ element_flows_changed_filter('period_start', 'month', 'freq') }}
    {%- endif %}
),

-- the exporter's own lines as the make-up of a partner's HS6 import (allocation exporter_lines)
line_shares as (
    select * from {{ ref('int_element_flows__exporter_line_shares') }}
    {%- if is_incremental() %}
        where {{ element_flows_changed_filter('period_start', 'month(period_start)', 'freq') }}
    {%- endif %}
),

products as (
    select * from {{ ref('products') }}
),

element_forms as (
    select * from {{ ref('element_forms') }}
),

elements as (
    select * from {{ ref('elements') }}
),

compositions as (
    select
        composition,
        element,
        mass_fraction,
        mass_fraction / sum(mass_fraction) over (partition by composition) as value_share
    from {{ ref('magnet_composition') }}
),

-- status intervals of the element-specific controls (the seed, not the as-of dimension: a
-- flow's flag depends on its own period, never on the build date)
controls as (
    select * from {{ ref('export_control_status') }}
    where element is not null and element != 'REE'
),

flow_products as (
    select
        flows.*,
        products.element as product_element,
        products.form,
        products.element_basis,
        products.composition
    from flows
    inner join products
        on
            flows.source = products.source
            and flows.product_code = products.product_code
            and flows.year between products.valid_from_year and products.valid_to_year
    where products.element_basis in ('exact', 'assumed_composition', 'unassigned')
),

exact as (
    select
        flow_products.*,
        flow_products.product_element as element,
        'exact' as allocation,
        flow_products.net_weight_kg * element_forms.element_mass_fraction as element_kg,
        flow_products.net_weight_kg * element_forms.element_mass_fraction
        / elements.oxide_element_fraction as reo_kg,
        flow_products.value_usd as allocated_value_usd
    from flow_products
    inner join element_forms
        on
            flow_products.product_element = element_forms.element
            and flow_products.form = element_forms.form
    inner join elements
        on flow_products.product_element = elements.symbol
    where flow_products.element_basis = 'exact'
),

assumed as (
    select
        flow_products.*,
        compositions.element,
        'assumed_composition' as allocation,
        flow_products.net_weight_kg * compositions.mass_fraction as element_kg,
        flow_products.net_weight_kg * compositions.mass_fraction
        / elements.oxide_element_fraction as reo_kg,
        flow_products.value_usd * compositions.value_share as allocated_value_usd
    from flow_products
    inner join compositions
        on flow_products.composition = compositions.composition
    inner join elements
        on compositions.element = elements.symbol
    where flow_products.element_basis = 'assumed_composition'
),

-- per kg of an exporter line, and per USD of its value: the element parts the line carries
-- (as in `exact` and `assumed` above); a line with no element make-up carries one part 'REE'
line_parts as (
    select
        products.source,
        products.product_code,
        products.valid_from_year,
        products.valid_to_year,
        products.element_basis,
        coalesce(compositions.element, products.element) as element,
        case
            when products.element_basis = 'exact' then element_forms.element_mass_fraction
            else compositions.mass_fraction
        end as mass_fraction,
        case
            when products.element_basis = 'exact' then 1.0
            else compositions.value_share
        end as value_fraction
    from products
    left join element_forms
        on
            products.element = element_forms.element
            and products.form = element_forms.form
    left join compositions
        on products.composition = compositions.composition
    where
        (products.element_basis = 'exact' and element_forms.element is not null)
        or (products.element_basis = 'assumed_composition' and compositions.element is not null)
),

-- fractions of the import row's net kg and value per element: sum over the exporter's lines of
-- kg_share x element mass fraction (value_share x value fraction); lines without an element
-- make-up (mixed, or not rare-earth specific) give their share to element 'REE', unassigned
share_parts as (
    select
        line_shares.source,
        line_shares.reporter_iso3,
        line_shares.partner_iso3,
        line_shares.flow,
        line_shares.freq,
        line_shares.period_start,
        line_shares.product_code,
        coalesce(line_parts.element, 'REE') as element,
        sum(line_shares.kg_share * line_parts.mass_fraction) as kg_fraction,
        sum(line_shares.kg_share * line_parts.mass_fraction / elements.oxide_element_fraction)
            as reo_fraction,
        sum(line_shares.value_share * coalesce(line_parts.value_fraction, 1.0)) as value_fraction
    from line_shares
    left join line_parts
        on
            line_shares.line_source = line_parts.source
            and line_shares.line_product_code = line_parts.product_code
            and year(line_shares.line_period_start)
            between line_parts.valid_from_year and line_parts.valid_to_year
    left join elements
        on line_parts.element = elements.symbol
    group by 1, 2, 3, 4, 5, 6, 7, 8
),

exporter_lines as (
    select
        flow_products.*,
        share_parts.element,
        case when share_parts.element = 'REE' then 'unassigned' else 'exporter_lines' end
            as allocation,
        flow_products.net_weight_kg * share_parts.kg_fraction as element_kg,
        flow_products.net_weight_kg * share_parts.reo_fraction as reo_kg,
        flow_products.value_usd * share_parts.value_fraction as allocated_value_usd
    from flow_products
    inner join share_parts
        on
            flow_products.source = share_parts.source
            and flow_products.reporter_iso3 = share_parts.reporter_iso3
            and flow_products.partner_iso3 = share_parts.partner_iso3
            and flow_products.flow = share_parts.flow
            and flow_products.freq = share_parts.freq
            and flow_products.period_start = share_parts.period_start
            and flow_products.product_code = share_parts.product_code
    where flow_products.element_basis = 'unassigned'
),

unassigned as (
    select
        flow_products.*,
        'REE' as element,
        'unassigned' as allocation,
        cast(null as double) as element_kg,
        cast(null as double) as reo_kg,
        flow_products.value_usd as allocated_value_usd
    from flow_products
    where
        flow_products.element_basis = 'unassigned'
        and not exists (
            select 1
            from share_parts
            where
                flow_products.source = share_parts.source
                and flow_products.reporter_iso3 = share_parts.reporter_iso3
                and flow_products.partner_iso3 = share_parts.partner_iso3
                and flow_products.flow = share_parts.flow
                and flow_products.freq = share_parts.freq
                and flow_products.period_start = share_parts.period_start
                and flow_products.product_code = share_parts.product_code
        )
),

allocated as (
    select * from exact
    union all
    select * from assumed
    union all
    select * from exporter_lines
    union all
    select * from unassigned
),

-- controlled: true when a control of the element was in force on period_start; NULL (unknown)
-- when none was but a suspension of one had expired with no source on what followed; else false
-- the (element, period_start) pairs with a control: in force, or a suspension expired with no
-- source on what followed (a join, not a correlated exists: Spark 4.3's planner fails on that)
allocated_periods as (
    select distinct
        element,
        period_start
    from allocated
),

control_states as (
    select
        allocated_periods.element,
        allocated_periods.period_start,
        max(case when controls.status = 'in_force' then 1 else 0 end) as in_force,
        max(case when controls.status = 'expired_status_unconfirmed' then 1 else 0 end) as unconfirmed
    from allocated_periods
    inner join controls
        on
            allocated_periods.element = controls.element
            and allocated_periods.period_start >= controls.valid_from
            and (controls.valid_to is null or allocated_periods.period_start < controls.valid_to)
    group by 1, 2
),

with_controls as (
    select
        allocated.*,
        case
            when control_states.in_force = 1 then true
            when control_states.unconfirmed = 1 then null
            else false
        end as controlled
    from allocated
    left join control_states
        on
            allocated.element = control_states.element
            and allocated.period_start = control_states.period_start
),

final as (
    select
        cast(source as string) as source,
        cast(reporter_iso3 as string) as reporter_iso3,
        cast(partner_iso3 as string) as partner_iso3,
        cast(flow as string) as flow,
        cast(freq as string) as freq,
        cast(period_start as date) as period_start,
        cast(year as integer) as year,
        cast(month as integer) as month,
        cast(product_code as string) as product_code,
        cast(hs6 as string) as hs6,
        cast(stage as string) as stage,
        cast(element as string) as element,
        cast(element_kg as double) as element_kg,
        cast(reo_kg as double) as reo_kg,
        cast(allocated_value_usd as double) as value_usd,
        cast(allocation as string) as allocation,
        cast(controlled as boolean) as controlled
    from with_controls
)

select * from final
