-- Records stamped on their own day, per earlier day in [:lo, :hi) of a daily feed: the latest
-- succeeded batch of each day (a re-run replaces the day's count).
SELECT window_end, day_records
FROM ops.batch b
WHERE source = :s AND entity = :e AND status = 'succeeded' AND day_records IS NOT NULL
  AND window_end >= :lo AND window_end < :hi
  AND batch_id = (SELECT max(batch_id) FROM ops.batch x
                  WHERE x.source = b.source AND x.entity = b.entity AND x.window_end = b.window_end
                    AND x.status = 'succeeded');
