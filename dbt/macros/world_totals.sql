{#
  The World row of each group of `keys`, decided in one place for every model that needs it:
  the source's declared World total (partner WLD) where it declared one for that group, else the
  sum of its country rows. Aggregate partners (areas n.e.s., economic groups: dim_country
  is_aggregate) are never added: they would count their members twice. `world_basis` says which
  of the two the row is ('declared' or 'sum_of_countries'); a group with neither a WLD row nor a
  country row has no World row.

  relation: a ref or CTE name with the columns `keys`, partner_iso3 and `measures`.
  measures: columns summed; `weighted` (optional): {name: [value, weight]} pairs summed as
  value × weight, for a weight-averaged figure (the caller divides by the summed weight).
#}
{% macro world_totals(relation, keys, measures, weighted={}) %}
    select
        {%- for key in keys %}
        world_rows.{{ key }},
        {%- endfor %}
        'WLD' as partner_iso3,
        case when max(world_rows.is_declared_world) = 1 then 'declared' else 'sum_of_countries' end
            as world_basis,
        {%- for measure in measures %}
        case
            when max(world_rows.is_declared_world) = 1
                then sum(case when world_rows.is_declared_world = 1 then world_rows.{{ measure }} end)
            else sum(world_rows.{{ measure }})
        end as {{ measure }}{{ "," if not loop.last or weighted }}
        {%- endfor %}
        {%- for name, pair in weighted.items() %}
        case
            when max(world_rows.is_declared_world) = 1
                then sum(
                    case when world_rows.is_declared_world = 1 then world_rows.{{ pair[0] }} * world_rows.{{ pair[1] }} end
                )
            else sum(world_rows.{{ pair[0] }} * world_rows.{{ pair[1] }})
        end as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from (
        select
            partnered.*,
            case when partnered.partner_iso3 = 'WLD' then 1 else 0 end as is_declared_world
        from {{ relation }} as partnered
        left join {{ ref('dim_country') }} as partner_countries
            on partnered.partner_iso3 = partner_countries.iso3
        where
            partnered.partner_iso3 = 'WLD'
            or partner_countries.is_aggregate = false
    ) as world_rows
    group by
        {%- for key in keys %}
        world_rows.{{ key }}{{ "," if not loop.last }}
        {%- endfor %}
{% endmacro %}
