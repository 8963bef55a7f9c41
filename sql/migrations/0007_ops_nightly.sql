-- The nightly run's own bookkeeping: records waiting for their dossier, quarantine resolution,
-- per-day volume and change bounds of each batch, publications (revisions) and day runs.
-- Times are Asia/Ho_Chi_Minh local time, like every other warehouse time.

-- Records of another system that arrived before the dossier they refer to. Re-tried on every
-- later load of their entity; loaded (and deleted here) as soon as the dossier is in core; moved
-- to ops.quarantine as orphans when still waiting EXTRACT_LOOKBACK_DAYS after they first arrived.
CREATE TABLE IF NOT EXISTS ops.pending (
    source          text NOT NULL,
    entity          text NOT NULL,
    record_key      text NOT NULL,
    payload_hash    text NOT NULL,
    payload         text NOT NULL,       -- the record as received (these entities carry no personal data)
    dossier_code    text NOT NULL,       -- the dossier it waits for
    first_seen_day  date NOT NULL,       -- the run day whose batch first saw it
    first_batch_id  bigint NOT NULL,
    last_batch_id   bigint NOT NULL,     -- the latest batch that re-tried it
    PRIMARY KEY (source, entity, record_key, payload_hash)
);

-- A quarantined record is resolved when a later batch loads a valid version of the same record.
ALTER TABLE ops.quarantine ADD COLUMN first_batch_id bigint;
ALTER TABLE ops.quarantine ADD COLUMN resolved_batch_id bigint;
ALTER TABLE ops.quarantine ADD COLUMN resolved_at timestamp;

-- What a batch's gates and restatements need.
ALTER TABLE ops.batch ADD COLUMN day_records bigint;       -- records stamped within the run's own day
ALTER TABLE ops.batch ADD COLUMN pending bigint;           -- records left waiting for their dossier
ALTER TABLE ops.batch ADD COLUMN retried bigint;           -- waiting records re-tried (not in extracted)
ALTER TABLE ops.batch ADD COLUMN changed_from timestamp;   -- the earliest event time among the rows it loaded

-- One row per snapshot date: when it was first and last published, and how much the last
-- publication changed (a revision: late data restated it).
CREATE TABLE IF NOT EXISTS ops.publication (
    snapshot_date        date PRIMARY KEY,
    first_published_at   timestamp NOT NULL,
    last_published_at    timestamp NOT NULL,
    last_run_day         date NOT NULL,     -- the run (data day) that last published it
    times_published      integer NOT NULL,
    row_count            bigint NOT NULL,
    rows_changed_last    bigint NOT NULL,   -- rows added, removed or with other figures, last time
    rows_changed_total   bigint NOT NULL    -- the same, summed over every republication
);

-- One row per data day run by the CLI or the DAGs: the outcome an operator (or --resume) reads.
CREATE TABLE IF NOT EXISTS ops.day_run (
    run_day       date PRIMARY KEY,
    status        text NOT NULL,          -- published | gate_failed | failed
    published_from date,                  -- the snapshot dates it (re)published
    published_to   date,
    message       text,
    finished_at   timestamp NOT NULL
);
