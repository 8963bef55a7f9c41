-- What decides whether an incremental run of :b + 1 .. :e can start from the published :b
-- (etl/indicators.py, base_date): the rows published for :b, the agencies valid on :b (each has a
-- row per period and indicator), and the changes of agencies or service configuration in the range.
SELECT (SELECT count(*) FROM mart.indicator_snapshot WHERE snapshot_date = :b) AS stored,
       (SELECT count(*) FROM core.agency WHERE valid_from <= :b AND (valid_to IS NULL OR valid_to >= :b)) AS agencies,
       (SELECT count(*) FROM core.agency WHERE (valid_from > :b AND valid_from <= :e)
                                            OR (valid_to >= :b AND valid_to < :e))
     + (SELECT count(*) FROM core.service_config WHERE (valid_from > :b AND valid_from <= :e)
                                                    OR (valid_to >= :b AND valid_to < :e)) AS boundaries;
