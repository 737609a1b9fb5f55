-- The current revision of every Comtrade figure: for each (reporter, flow, frequency, period)
-- only the rows of the most recently loaded file that carries it.
{{ latest_revision(ref('stg_comtrade__records'), ['reporter_code', 'flow_code', 'freq_code', 'period']) }}
