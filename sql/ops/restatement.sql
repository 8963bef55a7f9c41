-- What bounds the snapshot dates a run for the day ending at :end republishes: the earliest event
-- its loads changed (reference batches have no window), the first and the last date ever published.
SELECT (SELECT min(changed_from) FROM ops.batch WHERE window_end = :end AND status = 'succeeded') AS changed_from,
       (SELECT min(snapshot_date) FROM ops.publication) AS first_published,
       (SELECT max(snapshot_date) FROM ops.publication) AS last_published;
