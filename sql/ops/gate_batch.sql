-- The batches of a daily feed (:s source, :e entity) for the days :first .. :last, each with the day it
-- is for and the records stamped on that day: a night's batch is for the day its window ends with
-- (:first_end .. :last_end; a failed one counted nothing), a backfill's for each day of its span
-- (ops.day_records). The gate takes each day's latest.
SELECT COALESCE(d.data_day, CAST(b.window_end AS date) - 1) AS data_day, b.batch_id, b.status,
       -- the quarantine share: each day's own records' (ops.day_records; before migration 0041, a night's was its
       -- whole batch's), and that of the records of none of its days new to the quarantine, against the whole batch's
       COALESCE(d.extracted, b.extracted) AS extracted, COALESCE(d.quarantined, b.quarantined) AS quarantined,
       d.other_quarantined, b.extracted AS batch_extracted,
       COALESCE(d.records, b.day_records) AS day_records, b.message,
       CASE WHEN b.first_day < CAST(b.window_end AS date) - 1 THEN 1 ELSE 0 END AS spans_days
FROM ops.batch b
LEFT JOIN ops.day_records d ON d.batch_id = b.batch_id AND d.data_day >= :first AND d.data_day <= :last
WHERE b.source = :s AND b.entity = :e
  AND (d.batch_id IS NOT NULL OR (b.window_end >= :first_end AND b.window_end <= :last_end));
