-- Revisions for BI users (who read mart only): when each snapshot date was first and last
-- published, and how much late data changed it since.
CREATE OR REPLACE VIEW mart.snapshot_revision AS
SELECT snapshot_date, first_published_at, last_published_at, last_run_day, times_published, row_count,
       rows_changed_last, rows_changed_total, rows_changed_total > 0 AS revised
FROM ops.publication;
