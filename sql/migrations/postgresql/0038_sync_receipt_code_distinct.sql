-- PostgreSQL only, as 0037 for the history. The national portal logs a receipt per synced version, about
-- five a dossier, and ANALYZE's sample underestimates the distinct dossier codes as the receipts grow
-- (555,000-680,000 for 6.2 million dossiers in 32 million receipts, mid-year at 15 million a year): 54
-- receipts a code. At mid-year, with the pipeline's random_page_cost, the loads' probes found the index
-- either way (benchmarks/bench_receipt_probe.py); the history's estimate, as wrong, flipped the load's
-- plans to whole-table scans at the year's end. Told a fifth of the rows, the estimate stays near.
ALTER TABLE core.sync_receipt ALTER COLUMN dossier_code SET (n_distinct = -0.2);

ANALYZE core.sync_receipt;
