-- After (re)publishing :start..:end (etl/indicators.py, sql/indicators/write.sql): per date, its
-- rows and how many differ from the previous publication (added, removed, or other figures or
-- target: ind_revision's `revised`), recorded in ops.publication with the rules it was computed by
-- (:rules). A first publication (the date held no rows before) changes nothing.
DROP TABLE IF EXISTS _publication_change;
CREATE TEMPORARY TABLE _publication_change AS
SELECT COALESCE(n.snapshot_date, r.snapshot_date) AS snapshot_date,
       COALESCE(n.row_count, 0) AS row_count,
       CASE WHEN COALESCE(n.row_count, 0) - COALESCE(r.inserted, 0) + COALESCE(r.deleted, 0) > 0
            THEN COALESCE(r.revised, 0) ELSE 0 END AS rows_changed
FROM (SELECT snapshot_date, COUNT(*) AS row_count FROM mart.indicator_snapshot
      WHERE snapshot_date >= CAST(:start AS date) AND snapshot_date <= CAST(:end AS date)
      GROUP BY snapshot_date) n
FULL OUTER JOIN (SELECT snapshot_date, SUM(revised) AS revised,
                        SUM(CASE WHEN change = 'insert' THEN 1 ELSE 0 END) AS inserted,
                        SUM(CASE WHEN change = 'delete' THEN 1 ELSE 0 END) AS deleted
                 FROM ind_revision GROUP BY snapshot_date) r
  ON r.snapshot_date = n.snapshot_date;

INSERT INTO ops.publication (snapshot_date, first_published_at, last_published_at, last_run_day, times_published,
                             row_count, rows_changed_last, rows_changed_total, last_batch_id, rules)
SELECT snapshot_date, CAST(:t AS timestamp), CAST(:t AS timestamp), CAST(:run_day AS date), 1, row_count,
       rows_changed, rows_changed, (SELECT COALESCE(MAX(batch_id), 0) FROM ops.batch), CAST(:rules AS text)
FROM _publication_change
ON CONFLICT (snapshot_date) DO UPDATE SET
    last_published_at = excluded.last_published_at,
    last_batch_id = excluded.last_batch_id,
    rules = excluded.rules,
    last_run_day = excluded.last_run_day,
    times_published = ops.publication.times_published + 1,
    row_count = excluded.row_count,
    rows_changed_last = excluded.rows_changed_last,
    rows_changed_total = ops.publication.rows_changed_total + excluded.rows_changed_last;

DROP TABLE _publication_change;
