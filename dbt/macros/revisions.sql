{#-
  Keep, for every revision key, only the rows of the most recent committed load that carries it:
  a revised file replaces the figures of an earlier one for the same key, never adds to them.
  Earlier loads stay in the lake for audit. Ties on load time fall to the larger load id, so the
  choice is deterministic.
-#}
{% macro latest_revision(relation, key_columns) -%}
    select revised.*
    from (
        select
            candidate.*,
            dense_rank() over (
                partition by {{ key_columns | join(', ') }}
                order by candidate.loaded_at desc, candidate.load_id desc
            ) as revision_rank
        from {{ relation }} as candidate
    ) as revised
    where revised.revision_rank = 1
{%- endmacro %}
