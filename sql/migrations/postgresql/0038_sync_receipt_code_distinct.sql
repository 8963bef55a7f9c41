-- PostgreSQL only, as 0037 for the history. The national portal logs a receipt per synced version, about
-- five a dossier, and ANALYZE's sample underestimates the distinct dossier codes as the receipts grow
-- (623,729 for 6.2 million dossiers in 32 million receipts, mid-year at 15 million a year). A night's
-- fingerprints' probe, which joins each chunk's receipts by dossier code, then expected 54 receipts a
-- code: its cost crossed the threshold of JIT inlining and optimization (0.2 s a chunk) and, with less
-- work_mem, a scan of every receipt. Told a fifth of the rows: 5 a code, index probes without that JIT.
ALTER TABLE core.sync_receipt ALTER COLUMN dossier_code SET (n_distinct = -0.2);

ANALYZE core.sync_receipt;
