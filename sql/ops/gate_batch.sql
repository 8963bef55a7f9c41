-- The latest batch of a daily feed (:s source, :e entity) for :day: a night's batch ends with the
-- day (:end); a backfill's span counts the day's records in ops.day_records.
SELECT b.batch_id, b.status, b.extracted, b.quarantined, COALESCE(d.records, b.day_records) AS day_records, b.message
FROM ops.batch b
LEFT JOIN ops.day_records d ON d.batch_id = b.batch_id AND d.data_day = :day
WHERE b.source = :s AND b.entity = :e AND (b.window_end = :end OR d.batch_id IS NOT NULL)
ORDER BY b.batch_id DESC
LIMIT 1;
