-- The current revision of every Census figure: for each (flow, month) only the rows of the most
-- recently loaded file that carries it.
{{ latest_revision(ref('stg_census__records'), ['flow', 'period']) }}
