{#-
  No two rows share the values of `combination_of_columns` (a record key of several columns).
  NULL is a value here, as in GROUP BY: two rows alike but for a NULL in the same key column are
  duplicates (a `unique` test on a concatenation would let them pass, NULL || x being NULL).
  The argument's name is dbt_utils' so a move to that package is a rename of the test.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as duplicate_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
