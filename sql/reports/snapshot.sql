-- Every figure of a report date (all periods, agencies valid that day), from the BI view.
-- Parameters: :day.
SELECT snapshot_date, period, agency_code, agency_name, agency_level, level_label, peer_group, parent_code,
       indicator_code, indicator_order, indicator_name_vi, indicator_name_en, numerator, denominator,
       value, value_pct, target, gap_to_target, meets_target, rankable
FROM mart.snapshot_detail
WHERE snapshot_date = CAST(:day AS date);
