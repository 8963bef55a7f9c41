-- The latest batch of a daily feed (:s source, :e entity) for the day whose window ends at :end.
SELECT batch_id, status, extracted, quarantined, day_records, message
FROM ops.batch
WHERE source = :s AND entity = :e AND window_end = :end
ORDER BY batch_id DESC
LIMIT 1;
