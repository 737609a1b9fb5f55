-- "China's exports rose; did US imports follow?" by element: China's declared exports to the US
-- of Dy, Tb and NdPr (Nd + Pr) against the US's declared imports from China allocated by element
-- (exact lines, magnet compositions, and mixed HS6 lines split by China's own lines:
-- allocation exporter_lines), month by month, with the reconciled estimate.
--
-- Each side takes the source mart_mirror_flows chose for it (gacc for China, census for the US
-- where they have the period). A year in which China gives January+February as one M2 period
-- sets the US January and February into that period. Reconciled element kg: per HS6, the
-- reconciled kg of fct_reconciled_flows times the element's share of the declared net kg, China's
-- side where China declared element kg for the HS6, else the US side's; summed over HS6.
with

element_flows as (
    select
        *,
        case when element in ('Nd', 'Pr') then 'NdPr' else element end as element_group
    from {{ ref('fct_element_flows') }}
    where
        element in ('Dy', 'Tb', 'Nd', 'Pr')
        and freq in ('M', 'M2')
        and (
            (reporter_iso3 = 'CHN' and partner_iso3 = 'USA' and flow = 'export')
            or (reporter_iso3 = 'USA' and partner_iso3 = 'CHN' and flow = 'import')
        )
),

mirror as (
    select * from {{ ref('mart_mirror_flows') }}
    where exporter_iso3 = 'CHN' and importer_iso3 = 'USA' and freq in ('M', 'M2')
),

m2_years as (
    select distinct year from mirror
    where freq = 'M2'
),

aligned as (
    select
        element_flows.*,
        case
            when element_flows.freq = 'M' and element_flows.month <= 2 and m2_years.year is not null
                then 'M2'
            else element_flows.freq
        end as aligned_freq,
        case
            when element_flows.freq = 'M' and element_flows.month <= 2 and m2_years.year is not null
                then make_date(element_flows.year, 1, 1)
            else element_flows.period_start
        end as aligned_period_start
    from element_flows
    left join m2_years
        on element_flows.year = m2_years.year
),

-- element kg per side and HS6, from the source the mirror chose for that side
sides as (
    select
        aligned.element_group,
        mirror.hs6,
        mirror.freq,
        mirror.period_start,
        sum(case when aligned.flow = 'export' then aligned.element_kg end) as china_element_kg,
        sum(case when aligned.flow = 'export' then aligned.value_usd end) as china_value_usd,
        sum(case when aligned.flow = 'import' then aligned.element_kg end) as us_element_kg,
        sum(case when aligned.flow = 'import' then aligned.value_usd end) as us_value_usd,
        sum(
            case
                when aligned.flow = 'import' and aligned.allocation = 'exporter_lines'
                    then aligned.element_kg
            end
        ) as us_element_kg_exporter_lines
    from aligned
    inner join mirror
        on
            aligned.hs6 = mirror.hs6
            and aligned.aligned_freq = mirror.freq
            and aligned.aligned_period_start = mirror.period_start
            and aligned.source
            = case when aligned.flow = 'export' then mirror.export_source else mirror.import_source end
    group by 1, 2, 3, 4
),

reconciled as (
    select
        sides.*,
        reconciled_flows.reconciled_kg
        * case
            when sides.china_element_kg is not null and reconciled_flows.export_kg > 0
                then sides.china_element_kg / reconciled_flows.export_kg
            when sides.us_element_kg is not null and reconciled_flows.import_kg > 0
                then sides.us_element_kg / reconciled_flows.import_kg
        end as reconciled_element_kg
    from sides
    inner join {{ ref('fct_reconciled_flows') }} as reconciled_flows
        on
            reconciled_flows.exporter_iso3 = 'CHN'
            and reconciled_flows.importer_iso3 = 'USA'
            and sides.hs6 = reconciled_flows.hs6
            and sides.freq = reconciled_flows.freq
            and sides.period_start = reconciled_flows.period_start
),

monthly as (
    select
        element_group,
        freq,
        period_start,
        sum(china_element_kg) as china_export_element_kg,
        sum(china_value_usd) as china_export_value_usd,
        sum(us_element_kg) as us_import_element_kg,
        sum(us_value_usd) as us_import_value_usd,
        sum(us_element_kg_exporter_lines) as us_import_element_kg_exporter_lines,
        sum(reconciled_element_kg) as reconciled_element_kg
    from reconciled
    group by 1, 2, 3
),

final as (
    select
        cast(element_group as string) as element_group,
        cast(freq as string) as freq,
        cast(period_start as date) as period_start,
        cast(year(period_start) as integer) as year,
        cast(month(period_start) as integer) as month,
        cast(china_export_element_kg as double) as china_export_element_kg,
        cast(china_export_value_usd as double) as china_export_value_usd,
        cast(us_import_element_kg as double) as us_import_element_kg,
        cast(us_import_value_usd as double) as us_import_value_usd,
        cast(us_import_element_kg_exporter_lines as double) as us_import_element_kg_exporter_lines,
        cast(reconciled_element_kg as double) as reconciled_element_kg,
        cast(us_import_element_kg - china_export_element_kg as double) as element_kg_gap
    from monthly
)

select * from final
