-- The current revision of every GACC figure: for each (flow, freq, period) only the rows of the
-- most recently loaded file that carries it.
-- period_start is a function of period, so adding it changes no partition; it lets DuckDB push an
-- incremental build's period filter through the window into the Parquet scan.
{{ latest_revision(ref('stg_gacc__records'), ['flow', 'freq', 'period', 'period_start']) }}
