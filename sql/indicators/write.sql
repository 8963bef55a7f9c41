-- Write the computed range (ind_snapshot) over the rows of mart.indicator_snapshot dated
-- :range_start..:range_end, touching only the rows that differ. A night restates up to a dozen
-- dates of which few figures change: rewriting every row left PostgreSQL a dead copy of each
-- (the table and its key grew with every night) and cost DuckDB's primary-key index ~10 times
-- the difference. ind_revision keeps the difference for ops/publication_after.sql to count:
-- `revised` marks a row added, removed, or whose numerator, denominator or target moved.
DROP TABLE IF EXISTS ind_revision;
CREATE TEMPORARY TABLE ind_revision AS
SELECT COALESCE(n.snapshot_date, o.snapshot_date) AS snapshot_date,
       COALESCE(n.period, o.period) AS period,
       COALESCE(n.agency_code, o.agency_code) AS agency_code,
       COALESCE(n.indicator_code, o.indicator_code) AS indicator_code,
       n.numerator, n.denominator, n.value, n.target, n.meets_target,
       CASE WHEN o.snapshot_date IS NULL THEN 'insert'
            WHEN n.snapshot_date IS NULL THEN 'delete'
            ELSE 'update' END AS change,
       CASE WHEN o.snapshot_date IS NULL OR n.snapshot_date IS NULL
              OR n.numerator <> o.numerator OR n.denominator <> o.denominator
              OR n.target IS DISTINCT FROM o.target THEN 1 ELSE 0 END AS revised
FROM ind_snapshot n
FULL OUTER JOIN (SELECT * FROM mart.indicator_snapshot
                 WHERE snapshot_date >= CAST(:range_start AS date)
                   AND snapshot_date <= CAST(:range_end AS date)) o
  ON o.snapshot_date = n.snapshot_date AND o.period = n.period
 AND o.agency_code = n.agency_code AND o.indicator_code = n.indicator_code
WHERE o.snapshot_date IS NULL OR n.snapshot_date IS NULL
   OR n.numerator <> o.numerator OR n.denominator <> o.denominator
   OR n.value IS DISTINCT FROM o.value OR n.target IS DISTINCT FROM o.target
   OR n.meets_target IS DISTINCT FROM o.meets_target;

DELETE FROM mart.indicator_snapshot
WHERE snapshot_date >= CAST(:range_start AS date) AND snapshot_date <= CAST(:range_end AS date)
  AND EXISTS (SELECT 1 FROM ind_revision r
              WHERE r.change = 'delete' AND r.snapshot_date = mart.indicator_snapshot.snapshot_date
                AND r.period = mart.indicator_snapshot.period
                AND r.agency_code = mart.indicator_snapshot.agency_code
                AND r.indicator_code = mart.indicator_snapshot.indicator_code);

UPDATE mart.indicator_snapshot AS s
SET numerator = r.numerator, denominator = r.denominator, value = r.value, target = r.target,
    meets_target = r.meets_target
FROM ind_revision r
WHERE r.change = 'update' AND s.snapshot_date = r.snapshot_date AND s.period = r.period
  AND s.agency_code = r.agency_code AND s.indicator_code = r.indicator_code;

INSERT INTO mart.indicator_snapshot (snapshot_date, period, agency_code, indicator_code, numerator, denominator,
                                     value, target, meets_target)
SELECT snapshot_date, period, agency_code, indicator_code, numerator, denominator, value, target, meets_target
FROM ind_revision
WHERE change = 'insert';
