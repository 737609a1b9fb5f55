{#-
  Supplier-concentration metrics over `relation` (one row per group and partner country, with a
  positive `value_usd`), grouped by `group_columns`: HHI on the 0–10,000 scale from value shares,
  the top-1 partner and share, the top-3 share, the supplier count and China's share. Shares are
  value ratios, so 60 + 30 + 10 of 100 is exactly 1. Used by both supplier-concentration marts.
-#}
{% macro concentration_metrics(relation, group_columns) -%}
    {%- set groups = group_columns | join(', ') -%}
    select
        {{ groups }},
        sum(ranked.value_usd) as total_import_value_usd,
        sum(power(100 * ranked.share, 2)) as hhi,
        max(case when ranked.value_rank = 1 then ranked.partner_iso3 end) as top1_partner_iso3,
        max(case when ranked.value_rank = 1 then ranked.value_usd end) / sum(ranked.value_usd) as top1_share,
        sum(case when ranked.value_rank <= 3 then ranked.value_usd else 0 end)
        / sum(ranked.value_usd) as top3_share,
        count(*) as supplier_count,
        sum(case when ranked.partner_iso3 = 'CHN' then ranked.value_usd else 0 end)
        / sum(ranked.value_usd) as china_share
    from (
        select
            partners.*,
            partners.value_usd / sum(partners.value_usd) over (partition by {{ groups }}) as share,
            row_number() over (
                partition by {{ groups }}
                order by partners.value_usd desc, partners.partner_iso3 asc
            ) as value_rank
        from {{ relation }} as partners
        where partners.value_usd > 0
    ) as ranked
    group by {{ groups }}
{%- endmacro %}
