-- The drill-down's scope (etl.indicators.prepare runs it after indicators/prepare.sql, in place of
-- indicators/scope_all.sql). The agencies (as the source has them) whose items the listed figures can hold,
-- per indicator: those mapped on D to an agency at or under a figure's agency in exp_wanted -- the mapping
-- and roll-up of scope.sql. The dossier and transaction files insert only their items into exp_item: a
-- report's figures hold about a tenth of the year's items, and writing the rest took much of its preparation.
-- With exp_wanted empty (every figure), every agency for every indicator.
-- Parameters: :range_end (= D).
DROP VIEW IF EXISTS ind_history;  -- reads exp_agency (below)
DROP TABLE IF EXISTS exp_agency;
CREATE TEMPORARY TABLE exp_agency AS
SELECT w.indicator_code, m.agency_code
FROM exp_wanted w
JOIN ind_epoch ep ON ep.epoch_start <= CAST(:range_end AS date) AND ep.epoch_end >= CAST(:range_end AS date)
JOIN ind_rollup r ON r.epoch_start = ep.epoch_start AND r.ancestor_code = w.ancestor_code
JOIN ind_agency_map m ON m.epoch_start = ep.epoch_start AND m.mapped_code = r.agency_code
UNION
SELECT i.indicator_code, m.agency_code
FROM mart.indicator i
CROSS JOIN ind_agency_map m
WHERE NOT EXISTS (SELECT 1 FROM exp_wanted);

-- The dossiers the drill-down reads (versions.sql reads ind_history): those at one of these agencies. A
-- dossier elsewhere counts in none of the figures, and a single date's preparation follows the dossiers it
-- reads (each report splits its figures between sessions by agency: etl.explain.write_csvs). With exp_wanted
-- empty, every agency: every dossier that counts anywhere. A plain semi-join: PostgreSQL still scans the
-- history in parallel below it, which a condition on exp_wanted (a temporary table) in the scan prevents
-- (the year's current versions for ind_transaction: 15 s -> 25 s at 15 million a year).
CREATE TEMPORARY VIEW ind_history AS
SELECT h.* FROM core.dossier_history h
WHERE h.agency_code IN (SELECT agency_code FROM exp_agency);
