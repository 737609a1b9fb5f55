-- The current revision of every Comtrade figure: for each (reporter, flow, frequency, period)
-- only the rows of the most recently loaded file that carries it.
-- period_start is a function of period, so adding it changes no partition; it lets DuckDB push an
-- incremental build's period filter through the window into the Parquet scan.
{{
    latest_revision(
        ref('stg_comtrade__records'),
        ['reporter_code', 'flow_code', 'freq_code', 'period', 'period_start']
    )
}}
