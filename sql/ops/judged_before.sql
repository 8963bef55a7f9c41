-- Of the rejected records in _rejected (record_key, payload_hash) of a feed (:s source, :e entity), how many a
-- batch for a day before :first_start had quarantined first: a night's look-back re-reads its bad records, which
-- were judged on the day they were stamped (or first seen) and count in no later day's share.
SELECT count(*)
FROM _rejected r
JOIN ops.quarantine q
  ON q.source = :s AND q.entity = :e AND q.record_key = r.record_key AND q.payload_hash = r.payload_hash
JOIN ops.batch b ON b.batch_id = q.first_batch_id
WHERE b.window_end <= :first_start;
