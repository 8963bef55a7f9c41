-- A backfill's span judged its last day on its own records plus every record stamped on none of the span's
-- days (unreadable stamps, re-reads from before it): a month's few unreadable stamps, each quarantined, all
-- counted on one day, held that day for a share its own records did not have. The last day of a span now
-- counts its own records only; this column holds how many of the others were quarantined, which the gate
-- judges against the span's records as a whole (NULL: a night's batch, or a span loaded before, whose last
-- day holds them all as it did).
ALTER TABLE ops.day_records ADD COLUMN IF NOT EXISTS other_quarantined bigint;
