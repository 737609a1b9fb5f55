-- Trade flows turned into flows of each element. Lines that are not rare-earth specific
-- (253090, 382499, 720299, alnico and ferrite magnets) carry no element and are left out.
-- Incremental by period_start, like fct_trade_flows (macros/incremental.sql).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period_start',
        on_schema_change='fail',
        pre_hook="{{ incremental_pre_hook('period_start') }}"
    )
}}
with

flows as (
    select * from {{ ref('fct_trade_flows') }}
    {%- if is_incremental() %}
        where {{ changed_filter('period_start') }}
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

unassigned as (
    select
        flow_products.*,
        'REE' as element,
        'unassigned' as allocation,
        cast(null as double) as element_kg,
        cast(null as double) as reo_kg,
        flow_products.value_usd as allocated_value_usd
    from flow_products
    where flow_products.element_basis = 'unassigned'
),

allocated as (
    select * from exact
    union all
    select * from assumed
    union all
    select * from unassigned
),

-- controlled: true when a control of the element was in force on period_start; NULL (unknown)
-- when none was but a suspension of one had expired with no source on what followed; else false
with_controls as (
    select
        allocated.*,
        case
            when exists (
                select 1
                from controls
                where
                    controls.element = allocated.element
                    and controls.status = 'in_force'
                    and controls.valid_from <= allocated.period_start
                    and (controls.valid_to is null or allocated.period_start < controls.valid_to)
            ) then true
            when exists (
                select 1
                from controls
                where
                    controls.element = allocated.element
                    and controls.status = 'expired_status_unconfirmed'
                    and controls.valid_from <= allocated.period_start
                    and (controls.valid_to is null or allocated.period_start < controls.valid_to)
            ) then null
            else false
        end as controlled
    from allocated
),

final as (
    select
        cast(source as varchar) as source,
        cast(reporter_iso3 as varchar) as reporter_iso3,
        cast(partner_iso3 as varchar) as partner_iso3,
        cast(flow as varchar) as flow,
        cast(freq as varchar) as freq,
        cast(period_start as date) as period_start,
        cast(year as integer) as year,
        cast(month as integer) as month,
        cast(product_code as varchar) as product_code,
        cast(hs6 as varchar) as hs6,
        cast(stage as varchar) as stage,
        cast(element as varchar) as element,
        cast(element_kg as double) as element_kg,
        cast(reo_kg as double) as reo_kg,
        cast(allocated_value_usd as double) as value_usd,
        cast(allocation as varchar) as allocation,
        cast(controlled as boolean) as controlled
    from with_controls
)

select * from final
