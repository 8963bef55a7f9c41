-- Records stamped on their own day, per earlier day in [:lo, :hi) of a daily feed: from the latest
-- batch that counted the day (a re-run replaces the day's count). Only succeeded batches count days.
SELECT d.data_day, d.records
FROM ops.day_records d
JOIN ops.batch b ON b.batch_id = d.batch_id
WHERE b.source = :s AND b.entity = :e AND d.data_day >= :lo AND d.data_day < :hi
  AND d.batch_id = (SELECT max(x.batch_id) FROM ops.day_records x JOIN ops.batch y ON y.batch_id = x.batch_id
                    WHERE y.source = b.source AND y.entity = b.entity AND x.data_day = d.data_day);
