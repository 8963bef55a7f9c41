-- Before (re)publishing the snapshot dates :start..:end: keep their current rows to count revisions.
DROP TABLE IF EXISTS _previous_snapshot;
CREATE TEMPORARY TABLE _previous_snapshot AS
SELECT * FROM mart.indicator_snapshot
WHERE snapshot_date >= CAST(:start AS date) AND snapshot_date <= CAST(:end AS date);
