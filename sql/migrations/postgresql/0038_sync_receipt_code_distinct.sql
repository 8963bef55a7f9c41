-- PostgreSQL only, as 0037 for the history. The national portal logs a receipt per synced version, about
-- five a dossier, and ANALYZE's sample underestimates the distinct dossier codes as the receipts grow
-- (555,000-680,000 for 6.2 million dossiers in 32 million receipts, mid-year at 15 million a year): 54
-- receipts a code. The fingerprints' probe, which joins a chunk's receipts by dossier code, then hash-joined
-- a chunk of distinct dossiers with every receipt (3.6-4.0 s, growing with the year); told a fifth of the
-- rows it probes the index (median 0.8 s). A night's chunks (a few receipts per dossier) were probed by
-- index either way (benchmarks/bench_receipt_probe.py, docs/benchmarks.md "National scale").
ALTER TABLE core.sync_receipt ALTER COLUMN dossier_code SET (n_distinct = -0.2);

ANALYZE core.sync_receipt;
