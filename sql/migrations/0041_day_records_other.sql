-- Each day is judged on the records stamped on it, a night's as a backfill's. Before, a night was judged on its
-- whole window: the look-back's bad records, quarantined again each night that re-reads them, held the three
-- nights after a bad day, and a new defect showed at a quarter of its share on its first night. A backfill's last
-- day took every record stamped on none of the span's days: a month's few unreadable stamps, all on one day.
-- Now ops.day_records.extracted and .quarantined are the day's own; this column counts the records quarantined
-- that are stamped on none of the batch's days and new to the quarantine (late, an unreadable stamp), which the
-- gate judges against the whole batch (orphans, records of earlier days whose dossier never came, are in no
-- share). NULL: a batch loaded before, whose day holds the whole batch's figures as it did.
ALTER TABLE ops.day_records ADD COLUMN IF NOT EXISTS other_quarantined bigint;
