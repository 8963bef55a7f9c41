-- Tỷ lệ hồ sơ giải quyết trước hạn và đúng hạn.
-- Denominator: dossiers whose processing ended in the period, plus dossiers received and still
-- open at the end of the snapshot date (in every period). Numerator: those that ended on or before
-- their due date, plus open ones not yet overdue at the end of the snapshot date -- or waiting
-- for a supplement (status 5: the clock is stopped). More than one supplement request counts as
-- late. A due date moved by a supplement request (NgayHenTraMoi) is already in due_at, so the
-- time waiting for one supplement is not counted against the agency. Withdrawn (7): neither.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT 'on_time_rate', agency_code, NULL, ended_event, lo, hi,
       CASE WHEN on_time THEN DATE '1900-01-01' END, CAST(NULL AS date), COUNT(*), COUNT(*)
FROM ind_ended
GROUP BY agency_code, ended_event, lo, hi, CASE WHEN on_time THEN DATE '1900-01-01' END;

-- Open dossiers: on time on the snapshot dates D with due_at >= D + 1 day 00:00, i.e. up to the
-- day before the due date's day (never in the range when that is before it).
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT 'on_time_rate', agency_code, NULL, CAST(NULL AS date), lo, hi, num_lo, num_hi, COUNT(*), COUNT(*)
FROM (
    SELECT agency_code, lo, hi,
           CASE WHEN late_by_supplements THEN NULL
                WHEN waiting OR due_at IS NULL OR due_at >= CAST(:start_next_ts AS timestamp)
                THEN DATE '1900-01-01' END AS num_lo,
           CASE WHEN NOT late_by_supplements AND NOT waiting AND due_at >= CAST(:start_next_ts AS timestamp)
                THEN CAST(due_at AS date) - 1 END AS num_hi
    FROM ind_open
) x
GROUP BY agency_code, lo, hi, num_lo, num_hi;
