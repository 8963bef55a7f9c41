-- The dossiers a run reads (versions.sql reads ind_history): all of them.
DROP VIEW IF EXISTS ind_history;
CREATE TEMPORARY VIEW ind_history AS SELECT * FROM core.dossier_history;
