-- DuckDB only (etl.warehouse.Warehouse.migrate). The indexes of 0033 find one day's rows for
-- mart.data_quality on PostgreSQL. DuckDB never reads them: it scans, skipping the row groups whose
-- min/max (kept for every column) rule the day out, and its plans for the view show no index scan.
-- Yet every insert maintains them: a first load of 1,000,000 dossier versions took 4.2 s with them,
-- 3.6 s without (medians of 5; docs/benchmarks.md, "Loading").
DROP INDEX IF EXISTS core.dossier_history_batch_idx;
DROP INDEX IF EXISTS core.dossier_history_day_idx;
DROP INDEX IF EXISTS core.payment_batch_idx;
DROP INDEX IF EXISTS core.postal_order_batch_idx;
