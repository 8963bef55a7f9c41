-- After (re)publishing :start..:end: per date, its rows and how many differ from the previous
-- publication (added, removed, or other figures or target), recorded in ops.publication.
-- A first publication changes nothing.
DROP TABLE IF EXISTS _publication_change;
CREATE TEMPORARY TABLE _publication_change AS
SELECT d AS snapshot_date, SUM(present) AS row_count,
       CASE WHEN SUM(was_present) > 0 THEN SUM(changed) ELSE 0 END AS rows_changed
FROM (
    SELECT COALESCE(n.snapshot_date, p.snapshot_date) AS d,
           CASE WHEN n.snapshot_date IS NULL THEN 0 ELSE 1 END AS present,
           CASE WHEN p.snapshot_date IS NULL THEN 0 ELSE 1 END AS was_present,
           CASE WHEN n.snapshot_date IS NULL OR p.snapshot_date IS NULL
                  OR n.numerator <> p.numerator OR n.denominator <> p.denominator
                  OR n.target IS DISTINCT FROM p.target THEN 1 ELSE 0 END AS changed
    FROM (SELECT * FROM mart.indicator_snapshot
          WHERE snapshot_date >= CAST(:start AS date) AND snapshot_date <= CAST(:end AS date)) n
    FULL OUTER JOIN _previous_snapshot p
      ON p.snapshot_date = n.snapshot_date AND p.period = n.period
     AND p.agency_code = n.agency_code AND p.indicator_code = n.indicator_code
) x
GROUP BY d;

INSERT INTO ops.publication (snapshot_date, first_published_at, last_published_at, last_run_day, times_published,
                             row_count, rows_changed_last, rows_changed_total, last_batch_id)
SELECT snapshot_date, CAST(:t AS timestamp), CAST(:t AS timestamp), CAST(:run_day AS date), 1, row_count,
       rows_changed, rows_changed, (SELECT COALESCE(MAX(batch_id), 0) FROM ops.batch)
FROM _publication_change
ON CONFLICT (snapshot_date) DO UPDATE SET
    last_published_at = excluded.last_published_at,
    last_batch_id = excluded.last_batch_id,
    last_run_day = excluded.last_run_day,
    times_published = ops.publication.times_published + 1,
    row_count = excluded.row_count,
    rows_changed_last = excluded.rows_changed_last,
    rows_changed_total = ops.publication.rows_changed_total + excluded.rows_changed_last;

DROP TABLE _previous_snapshot;
DROP TABLE _publication_change;
