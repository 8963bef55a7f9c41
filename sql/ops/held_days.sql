-- Days between :a and :b, other than :day, whose gate held them back (not republished until re-run
-- or published by hand; nor counted in the usual volume the gates judge later days by).
SELECT run_day FROM ops.day_run
WHERE status = 'gate_failed' AND run_day >= :a AND run_day <= :b AND run_day <> :day;
