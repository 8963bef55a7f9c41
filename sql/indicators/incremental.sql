-- An incremental run (after aggregate.sql, before publish.sql): the range's first date
-- :range_start is published and current, and the dossiers' working tables held only the
-- dossiers whose part can change after it (scope_changed.sql). For the indicators counted from
-- them (ind_code.incremental), a later date's figure is the published figure of :range_start
-- plus the change of this run's figure from :range_start to the date; the others (the
-- configuration's) were computed from complete inputs and stand. :range_start itself is not
-- republished.
DROP TABLE IF EXISTS ind_value_next;
CREATE TEMPORARY TABLE ind_value_next AS
SELECT v.d, v.agency_code, v.period, v.indicator_code,
       CASE WHEN c.incremental THEN s.numerator + v.numerator - b.numerator ELSE v.numerator END AS numerator,
       CASE WHEN c.incremental THEN s.denominator + v.denominator - b.denominator ELSE v.denominator END AS denominator
FROM ind_value v
JOIN ind_code c ON c.indicator_code = v.indicator_code
JOIN ind_value b
  ON b.d = CAST(:range_start AS date) AND b.agency_code = v.agency_code AND b.period = v.period
 AND b.indicator_code = v.indicator_code
JOIN mart.indicator_snapshot s
  ON s.snapshot_date = CAST(:range_start AS date) AND s.agency_code = v.agency_code AND s.period = v.period
 AND s.indicator_code = v.indicator_code
WHERE v.d > CAST(:range_start AS date);

DROP TABLE ind_value;
CREATE TEMPORARY TABLE ind_value AS SELECT * FROM ind_value_next;
DROP TABLE ind_value_next;
