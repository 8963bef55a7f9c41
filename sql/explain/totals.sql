-- Numerator and denominator per agency, period and indicator, summed from the listed items: what
-- must equal mart.indicator_snapshot.
SELECT ancestor_code AS agency_code, period, indicator_code,
       CAST(SUM(in_num) AS bigint) AS numerator, CAST(SUM(in_den) AS bigint) AS denominator
FROM exp_scope
GROUP BY ancestor_code, period, indicator_code;
