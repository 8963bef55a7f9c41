-- The indicator rules a date was last published under (etl/indicators.py, rules): an incremental
-- indicator run starts from a published date only if the rules are still the same
-- (sql/ops/publication_current.sql). Dates published before this column read NULL: not current.
ALTER TABLE ops.publication ADD COLUMN rules text;
