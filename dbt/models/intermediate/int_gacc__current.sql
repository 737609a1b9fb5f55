-- The current revision of every GACC figure: for each (flow, freq, period) only the rows of the
-- most recently loaded file that carries it.
{{ latest_revision(ref('stg_gacc__records'), ['flow', 'freq', 'period']) }}
