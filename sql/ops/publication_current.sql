-- Whether the published snapshot of :base is current, so that an incremental run can add the
-- changes of the next dates to it (etl/indicators.py): published under today's indicator rules
-- (:rules), not held back by its gate, and no batch opened since its last publication changed
-- anything it counts (a row dated before :next_ts, or reference data).
SELECT COUNT(*) FROM ops.publication p
WHERE p.snapshot_date = :base
  AND p.rules = :rules
  AND NOT EXISTS (SELECT 1 FROM ops.day_run r WHERE r.run_day = :base AND r.status = 'gate_failed')
  AND NOT EXISTS (SELECT 1 FROM ops.batch b
                  WHERE b.status = 'succeeded' AND b.batch_id > COALESCE(p.last_batch_id, -1)
                    AND ((b.window_end IS NULL AND b.loaded > 0) OR b.changed_from < :next_ts));
