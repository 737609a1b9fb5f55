-- fct_reconciled_flows: the CIF/FOB rate lies within its bounds, the weights within [0, 1], and a
-- flow both sides declared has a reconciled value between the export FOB and the import FOB.
{{ config(meta = {'dagster': {'ref': {'name': 'fct_reconciled_flows'}}}) }}
select *
from {{ ref('fct_reconciled_flows') }}
where
    cif_fob_rate < {{ var('reconcile_cif_fob_min') }}
    or cif_fob_rate > {{ var('reconcile_cif_fob_max') }}
    or exporter_weight < 0
    or exporter_weight > 1
    or (
        declared_by = 'both'
        and export_value_usd is not null
        and import_value_usd is not null
        and (
            reconciled_value_usd
            < least(export_value_usd, import_value_usd / cif_fob_rate) - 0.01
            or reconciled_value_usd
            > greatest(export_value_usd, import_value_usd / cif_fob_rate) + 0.01
        )
    )
