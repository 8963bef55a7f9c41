-- The last batch opened before a date's (re)publication: an incremental indicator run starts from a
-- published date only if no batch opened since changed what it counts (sql/ops/publication_current.sql).
-- Times have whole seconds, so they cannot order a batch and a publication of the same second.
ALTER TABLE ops.publication ADD COLUMN last_batch_id bigint;
