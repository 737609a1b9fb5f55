-- The exporter's own element lines as the make-up of a partner's HS6 import (allocation
-- `exporter_lines` in fct_element_flows): one row per (import flow row, exporter line).
--
-- An import row qualifies when its product line is `unassigned` (a mixed HS6 line such as
-- 284690, 280530, 850511) and its partner (the exporter) declared, to that importer, under the
-- same HS6 and for the same period, lines of which at least one is element-specific (`exact` or
-- `assumed_composition`; GACC's 10-digit lines for China). The import is split over ALL of those
-- exporter lines: net mass in the proportions of the lines' net kg (kg_share), value in the
-- proportions of their value (value_share). The share of an exporter line that is itself mixed
-- stays unassigned in fct_element_flows; kg_share and value_share of an import row add to 1.
--
-- Periods: M with M, A with A, M2 with M2; an importer's January and February rows both take the
-- shares of the exporter's January+February (M2) period of that year (splitting each month by
-- the Jan+Feb shares is splitting their sum: the proportions are linear). A same-month M line is
-- preferred to an M2 line where both exist. Annual and monthly are never mixed.
-- One exporter source per (exporter, importer, hs6, period): the national one with element lines
-- (alphabetically first if several). The exporter's lines must all declare net kg (kg shares) and
-- their values must add to more than 0 (value shares), else the import stays unassigned.
with

flows as (
    select * from {{ ref('fct_trade_flows') }}
),

products as (
    select * from {{ ref('products') }}
),

flow_products as (
    select
        flows.*,
        products.element_basis
    from flows
    inner join products
        on
            flows.source = products.source
            and flows.product_code = products.product_code
            and flows.year between products.valid_from_year and products.valid_to_year
    where products.element_basis in ('exact', 'assumed_composition', 'unassigned')
),

imports as (
    select *
    from flow_products
    where
        flow = 'import'
        and element_basis = 'unassigned'
        and partner_iso3 != reporter_iso3
),

-- every export line of the exporter under the HS6, rare-earth specific or not (a ferrite-magnet
-- line's share of an 850511 import stays unassigned, it is not given to the NdFeB lines)
exporter_lines as (
    select
        flows.*,
        coalesce(products.element_basis, 'unmapped') as element_basis
    from flows
    left join products
        on
            flows.source = products.source
            and flows.product_code = products.product_code
            and flows.year between products.valid_from_year and products.valid_to_year
    where flows.flow = 'export'
),

-- exporter sources with at least one element-specific line for the key
line_sets as (
    select
        source,
        reporter_iso3,
        partner_iso3,
        hs6,
        freq,
        period_start,
        row_number() over (
            partition by reporter_iso3, partner_iso3, hs6, freq, period_start
            order by source
        ) as preference
    from exporter_lines
    group by source, reporter_iso3, partner_iso3, hs6, freq, period_start
    having
        count(*) filter (where element_basis in ('exact', 'assumed_composition')) > 0
        and count(*) = count(net_weight_kg)
        and sum(net_weight_kg) > 0
        and sum(value_usd) > 0
),

matches as (
    select
        imports.source,
        imports.reporter_iso3,
        imports.partner_iso3,
        imports.flow,
        imports.freq,
        imports.period_start,
        imports.product_code,
        imports.hs6,
        line_sets.source as line_source,
        line_sets.freq as line_freq,
        line_sets.period_start as line_period_start,
        -- 1: the same period; 2: a January or February month against Jan+Feb (M2)
        case when line_sets.freq = imports.freq then 1 else 2 end as match_rank
    from imports
    inner join line_sets
        on
            line_sets.preference = 1
            and imports.partner_iso3 = line_sets.reporter_iso3
            and imports.reporter_iso3 = line_sets.partner_iso3
            and imports.hs6 = line_sets.hs6
            and (
                (imports.freq = line_sets.freq and imports.period_start = line_sets.period_start)
                or (
                    imports.freq = 'M'
                    and imports.month <= 2
                    and line_sets.freq = 'M2'
                    and line_sets.period_start = make_date(imports.year, 1, 1)
                )
            )
),

best_matches as (
    select *
    from matches
    qualify
        match_rank = min(match_rank) over (
            partition by source, reporter_iso3, partner_iso3, flow, freq, period_start, product_code
        )
),

shares as (
    select
        best_matches.source,
        best_matches.reporter_iso3,
        best_matches.partner_iso3,
        best_matches.flow,
        best_matches.freq,
        best_matches.period_start,
        best_matches.product_code,
        best_matches.line_source,
        best_matches.line_freq,
        best_matches.line_period_start,
        exporter_lines.product_code as line_product_code,
        exporter_lines.net_weight_kg as line_net_weight_kg,
        exporter_lines.value_usd as line_value_usd,
        exporter_lines.net_weight_kg / sum(exporter_lines.net_weight_kg) over (
            partition by
                best_matches.source, best_matches.reporter_iso3, best_matches.partner_iso3,
                best_matches.flow, best_matches.freq, best_matches.period_start,
                best_matches.product_code
        ) as kg_share,
        exporter_lines.value_usd / sum(exporter_lines.value_usd) over (
            partition by
                best_matches.source, best_matches.reporter_iso3, best_matches.partner_iso3,
                best_matches.flow, best_matches.freq, best_matches.period_start,
                best_matches.product_code
        ) as value_share
    from best_matches
    inner join exporter_lines
        on
            best_matches.line_source = exporter_lines.source
            and best_matches.partner_iso3 = exporter_lines.reporter_iso3
            and best_matches.reporter_iso3 = exporter_lines.partner_iso3
            and best_matches.line_freq = exporter_lines.freq
            and best_matches.line_period_start = exporter_lines.period_start
            and best_matches.hs6 = exporter_lines.hs6
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
        cast(line_source as string) as line_source,
        cast(line_freq as string) as line_freq,
        cast(line_period_start as date) as line_period_start,
        cast(line_product_code as string) as line_product_code,
        cast(line_net_weight_kg as double) as line_net_weight_kg,
        cast(line_value_usd as double) as line_value_usd,
        cast(kg_share as double) as kg_share,
        cast(value_share as double) as value_share
    from shares
)

select * from final
