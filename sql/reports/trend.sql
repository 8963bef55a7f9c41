-- The province's figures from 1 January to the report date (ytd and mtd), for the trend charts
-- and the month-by-month sheet. Parameters: :day, :year_start_date.
SELECT snapshot_date, period, indicator_code, numerator, denominator, value, target
FROM mart.province_trend
WHERE snapshot_date >= CAST(:year_start_date AS date) AND snapshot_date <= CAST(:day AS date)
  AND period IN ('ytd', 'mtd')
ORDER BY snapshot_date;
