-- One record per file load of every source: what was read, landed, quarantined or counted out of
-- scope, and why.
{%- set lake_sources = ['comtrade', 'census', 'gacc', 'prices', 'fx', 'usgs'] %}

with

loads as (
    {%- set load_logs = [] %}
    {%- for lake_source in lake_sources %}
        {%- do load_logs.append(source('lake_' ~ lake_source, 'load_log')) %}
    {%- endfor %}
    {{ union_all_by_name(load_logs) }}
),

final as (
    select
        cast(load_id as string) as load_id,
        cast(source as string) as source,
        cast(source_file as string) as source_file,
        cast(file_sha256 as string) as file_sha256,
        cast(file_bytes as bigint) as file_bytes,
        cast(loaded_at as timestamp) as loaded_at,
        cast(status as string) as status,
        cast(rows_read as bigint) as rows_read,
        cast(rows_landed as bigint) as rows_landed,
        cast(rows_quarantined as bigint) as rows_quarantined,
        -- Loads recorded before rows were counted out of scope have no such column: 0 rows.
        cast(coalesce(rows_out_of_scope, 0) as bigint) as rows_out_of_scope,
        cast(out_of_scope_reasons as string) as out_of_scope_reasons,
        cast(periods as string) as periods,
        cast(message as string) as message,
        cast(gx_success as boolean) as gx_success,
        cast(gx_failed as string) as gx_failed,
        cast(request as string) as request
    from loads
)

select * from final
