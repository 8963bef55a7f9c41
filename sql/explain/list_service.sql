-- The services (agency x procedure) of the snapshot rows in exp_wanted of service-level indicators, with their
-- configuration on D, their integration on the national portal and, for the "with at least one
-- dossier" indicators, the period's dossiers. Those not in the numerator first.
-- Kept in exp_listed_service, numbered by `seq` in the listing's order (figure by figure): etl.explain reads
-- it whole, counts it, or has the database write each figure's CSV from it.
-- Parameters: :period, :range_end (= D).
DROP TABLE IF EXISTS exp_listed_service;
CREATE TEMPORARY TABLE exp_listed_service AS
SELECT w.figure, row_number() OVER (ORDER BY w.figure, s.in_num, s.counted_for, s.item_code) AS seq,
       s.indicator_code, s.ancestor_code, s.in_num, s.in_den, s.basis, s.counted_for, s.counted_for_name, s.agency_code, s.item_code,
       pr.name AS procedure_name, c.service_level, pr.full_online_eligible, pr.has_fee, c.online_payment, c.bcci,
       i.integrated_from, i.integrated_to, s.dossiers, s.hits
FROM exp_scope s
JOIN exp_wanted w ON w.indicator_code = s.indicator_code AND w.ancestor_code = s.ancestor_code
LEFT JOIN core.procedure pr ON pr.procedure_code = s.item_code
LEFT JOIN core.service_config c
  ON c.agency_code = s.agency_code AND c.procedure_code = s.item_code
 AND c.valid_from = (SELECT MAX(c2.valid_from) FROM core.service_config c2
                     WHERE c2.agency_code = s.agency_code AND c2.procedure_code = s.item_code
                       AND c2.valid_from <= CAST(:range_end AS date))
LEFT JOIN core.integrated_service i
  ON i.agency_code = s.agency_code AND i.procedure_code = s.item_code
 AND i.integrated_from = (SELECT MAX(i2.integrated_from) FROM core.integrated_service i2
                          WHERE i2.agency_code = s.agency_code AND i2.procedure_code = s.item_code
                            AND i2.integrated_from <= CAST(:range_end AS date))
WHERE w.kind = 'service' AND s.period = CAST(:period AS text);

-- Each figure's CSV reads its rows in order (etl.explain.write_csvs): without it PostgreSQL scanned the
-- whole listing once per figure (9 s of a year-end report at 1 million dossiers a year).
CREATE INDEX exp_listed_service_figure ON exp_listed_service (figure, seq);
