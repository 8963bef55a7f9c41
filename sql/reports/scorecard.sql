-- The scorecard printed by `python -m etl demo` and `python -m etl scorecard`: one row per agency
-- and indicator for a snapshot date and period, province and district levels (communes roll up
-- into districts), with the indicator's English name.
-- Parameters: :day, :period.
SELECT a.agency_code, a.name, a.level, a.parent_code, s.indicator_code, i.name_en AS indicator_name,
       s.numerator, s.denominator, s.value, s.target, s.meets_target
FROM mart.indicator_snapshot s
JOIN core.agency a ON a.agency_code = s.agency_code
LEFT JOIN mart.indicator i ON i.indicator_code = s.indicator_code
WHERE s.snapshot_date = CAST(:day AS date)
  AND s.period = :period
  AND a.level <= 2
ORDER BY CASE WHEN a.parent_code IS NULL THEN 0 ELSE a.level END, a.name, s.indicator_code;
