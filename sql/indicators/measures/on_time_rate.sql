-- Tỷ lệ hồ sơ giải quyết trước hạn và đúng hạn.
-- Denominator: dossiers whose processing ended in the period, plus dossiers received and still
-- open at the end of the snapshot date (in every period). Numerator: those that ended on or before
-- their due date, plus open ones not yet overdue at the end of the snapshot date. The clock stops
-- at a supplement request, not before: a dossier waiting for a supplement (status 5) is judged at
-- the request -- on time only if it came on or before the due date then in force -- and one whose
-- request came after that due date is late while it waits and after (`late`, prepare.sql). The due
-- date moved by a supplement (NgayHenTraMoi) is already in due_at, so the waiting time is not
-- counted against the agency. More than one supplement request counts as late. Withdrawn (7): neither.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), agency_code, NULL, ended_event, lo, hi,
       CASE WHEN on_time THEN DATE '1900-01-01' END, CAST(NULL AS date), COUNT(*), COUNT(*)
FROM ind_ended
GROUP BY agency_code, ended_event, lo, hi, CASE WHEN on_time THEN DATE '1900-01-01' END;

-- Open dossiers: on time on the snapshot dates D with due_at >= D + 1 day 00:00, i.e. up to the
-- day before the due date's day (never in the range when that is before it); waiting ones on every
-- date unless late.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), agency_code, NULL, CAST(NULL AS date), lo, hi, num_lo, num_hi, COUNT(*), COUNT(*)
FROM (
    SELECT agency_code, lo, hi,
           CASE WHEN late THEN NULL
                WHEN waiting OR due_at IS NULL OR due_at >= CAST(:start_next_ts AS timestamp)
                THEN DATE '1900-01-01' END AS num_lo,
           CASE WHEN NOT late AND NOT waiting AND due_at >= CAST(:start_next_ts AS timestamp)
                THEN CAST(due_at AS date) - 1 END AS num_hi
    FROM ind_open
) x
GROUP BY agency_code, lo, hi, num_lo, num_hi;
