"""The fixed set of typical BI queries timed against the serving file (tools/bench/measure.py `bi`).

The first seven are the example queries of docs/bi.md (what a dashboard page runs); the rest are
the filters a BI tool issues on the fact tables (one importer's partners, one line's time series,
a year's element totals, a top-N over everything).
"""

QUERIES = {
    "china_exports_by_stage": """
        select period_start, freq, source,
            round(sum(net_weight_kg) filter (where series = 'rare_earths') / 1000, 1) as rare_earths_t,
            round(sum(net_weight_kg) filter (where series = 'magnets') / 1000, 1) as magnets_t,
            round(sum(value_usd) filter (where series = 'magnets') / 1e6, 2) as magnets_musd
        from marts.mart_china_exports_by_stage
        where partner_iso3 = 'WLD'
        group by period_start, freq, source
        order by period_start""",
    "us_supplier_concentration": """
        select year, hs6, source, year_basis, round(hhi) as hhi,
            round(effective_suppliers, 1) as effective_suppliers, top1_partner_iso3,
            round(100 * china_share, 1) as china_share_pct, supplier_count
        from marts.mart_supplier_concentration
        where importer_iso3 = 'USA'
        order by hs6, year, source""",
    "mirror_gap_chn_usa": """
        select period_start, freq, export_source, import_source,
            round(sum(export_value_usd) / 1e6, 2) as china_exports_musd,
            round(sum(import_value_usd) / 1e6, 2) as us_imports_musd,
            round(sum(value_gap_usd) / 1e6, 2) as gap_musd,
            round(sum(import_value_usd) / sum(export_value_usd), 3) as cif_fob_ratio
        from marts.mart_mirror_flows
        where exporter_iso3 = 'CHN' and importer_iso3 = 'USA' and value_gap_usd is not null
        group by period_start, freq, export_source, import_source
        order by freq, period_start""",
    "export_control_exposure": """
        select regime_id, element, effective_date, source,
            round(sum(element_kg) filter (where "window" = 'before')) as element_kg_before,
            round(sum(element_kg) filter (where "window" = 'after')) as element_kg_after,
            count(*) filter (where "window" = 'before') as periods_before,
            count(*) filter (where "window" = 'after') as periods_after
        from marts.mart_export_control_exposure
        where reporter_iso3 = 'CHN' and partner_iso3 = 'WLD'
        group by regime_id, element, effective_date, source
        order by regime_id, element, source""",
    "unit_value_vs_price": """
        select period_start, freq, element, form, price_basis,
            round(sum(value_usd) / sum(net_weight_kg), 2) as unit_value_usd_per_kg,
            round(avg(benchmark_usd_per_kg), 2) as benchmark_usd_per_kg,
            round(100 * (sum(value_usd) / sum(net_weight_kg) / avg(benchmark_usd_per_kg) - 1), 1) as premium_pct
        from marts.mart_unit_value_vs_price
        where reporter_iso3 = 'CHN' and flow = 'export' and partner_iso3 = 'WLD'
            and benchmark_usd_per_kg is not null and net_weight_kg > 0
        group by period_start, freq, element, form, price_basis
        order by element, form, period_start""",
    "latest_loads": """
        select log.loaded_at, log.source, log.source_file, log.status, log.rows_read,
            log.rows_landed, log.rows_quarantined, log.periods, info.published_at
        from audit.load_log as log cross join audit.publish_info as info
        order by log.loaded_at desc, log.source_file
        limit 20""",
    "suspension_expiries": """
        select regime_id, string_agg(coalesce(element, '-'), ', ' order by element) as elements,
            min(suspended_until) as suspended_until, min(suspended_until) - current_date as days_from_today,
            any_value(scope) as scope
        from marts.dim_export_control
        where suspended_until is not null
        group by regime_id
        order by suspended_until, regime_id""",
    "importer_top_partners_year": """
        select partner_iso3, sum(value_usd) as value_usd, sum(net_weight_kg) as kg
        from marts.fct_trade_flows
        where reporter_iso3 = 'JPN' and flow = 'import' and freq = 'A' and year = 2023
            and hs6 = '284690' and partner_iso3 != 'WLD'
        group by partner_iso3
        order by value_usd desc
        limit 10""",
    "line_monthly_series": """
        select period_start, sum(value_usd) as value_usd, sum(net_weight_kg) as kg
        from marts.fct_trade_flows
        where source = 'comtrade' and freq = 'M' and hs6 = '850511' and flow = 'import'
            and partner_iso3 = 'WLD'
        group by period_start
        order by period_start""",
    "element_totals_year": """
        select element, allocation, sum(element_kg) as element_kg, sum(value_usd) as value_usd
        from marts.fct_element_flows
        where year = 2024 and partner_iso3 = 'WLD' and flow = 'export'
        group by element, allocation
        order by element_kg desc nulls last""",
    "top_exporters_all_years": """
        select reporter_iso3, year, sum(value_usd) as value_usd
        from marts.fct_trade_flows
        where flow = 'export' and partner_iso3 = 'WLD' and freq = 'A'
        group by reporter_iso3, year
        order by value_usd desc
        limit 25""",
}
