-- PostgreSQL only (etl.warehouse.Warehouse.migrate). ANALYZE estimates the distinct dossier codes of the
-- history from a sample, and underestimates them by far as the history grows (320,923 for 15 million
-- dossiers in 80 million versions). It then expects every code to match hundreds of versions, and a
-- night's load probes and updates the history by scanning all of it: 388 s for a night of 320,000
-- versions at 15 million dossiers a year, against 39 s with the estimate fixed (docs/benchmarks.md,
-- "Loading"). A dossier has about five versions (one per status change), so the distinct codes are
-- about a fifth of the rows: near enough, where the sample's estimate was 50 times too low.
ALTER TABLE core.dossier_history ALTER COLUMN dossier_code SET (n_distinct = -0.2);

ANALYZE core.dossier_history;
