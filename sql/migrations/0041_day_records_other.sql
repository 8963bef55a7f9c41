-- Each day is judged on the records stamped on it, a night's as a backfill's. Before, a night was judged on its
-- whole window: the look-back's bad records, quarantined again each night that re-reads them, held the three
-- nights after a bad day, and a new defect showed at a quarter of its share on its first night. A backfill's last
-- day took every record stamped on none of the span's days: a month's few unreadable stamps, all on one day.
-- Now ops.day_records.extracted and .quarantined are the day's own; this column counts the records quarantined
-- with no day to count them on (an unreadable stamp; a night's orphans), which the gate judges against the whole
-- batch. NULL: a batch loaded before, whose day holds the whole batch's figures as it did.
ALTER TABLE ops.day_records ADD COLUMN IF NOT EXISTS other_quarantined bigint;
