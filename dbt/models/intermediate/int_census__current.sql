-- The current revision of every Census figure: for each (flow, month) only the rows of the most
-- recently loaded file that carries it.
-- period_start is a function of period, so adding it changes no partition; it lets DuckDB push an
-- incremental build's period filter through the window into the Parquet scan.
{{ latest_revision(ref('stg_census__records'), ['flow', 'period', 'period_start']) }}
