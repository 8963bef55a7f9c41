-- Schemas, reference data, dossiers and operations tables.
-- Portable between PostgreSQL and DuckDB: plain types, IF NOT EXISTS everywhere.
-- Timestamps are Asia/Ho_Chi_Minh local time without offset, as every source sends them.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE SCHEMA IF NOT EXISTS ops;

-- Reference data from the one-stop system ------------------------------------
CREATE TABLE IF NOT EXISTS core.agency (
    agency_code     text PRIMARY KEY,      -- MaDonVi
    name            text NOT NULL,         -- TenDonVi
    level           integer NOT NULL,      -- Cap: 1 province, 2 district, 3 commune
    parent_code     text,                  -- MaDonViCha; NULL for the province root
    valid_from      date NOT NULL,         -- HieuLucTu
    valid_to        date,                  -- HieuLucDen; NULL = still valid
    successor_code  text                   -- MaDonViKeThua, after a merger
);

CREATE TABLE IF NOT EXISTS core.procedure (
    procedure_code        text PRIMARY KEY,  -- MaTTHC
    name                  text NOT NULL,
    field_code            text,
    field_name            text,
    levels                text,              -- CapThucHien, comma separated
    full_online_eligible  boolean NOT NULL,  -- DuDieuKienToanTrinh
    has_fee               boolean NOT NULL   -- CoPhiLePhi
);

CREATE TABLE IF NOT EXISTS core.service_config (
    agency_code        text NOT NULL,
    procedure_code     text NOT NULL,
    valid_from         date NOT NULL,
    valid_to           date,
    service_level      text NOT NULL,      -- full_online | partial_online | offline (MucDo, legacy 4/3/2 mapped)
    online_payment     boolean NOT NULL,   -- CoThanhToanTrucTuyen
    bcci               boolean NOT NULL,   -- CoBCCI
    PRIMARY KEY (agency_code, procedure_code, valid_from)
);

-- Dossiers --------------------------------------------------------------------
-- Every version the source sent (it re-sends a dossier on each change), so that any
-- snapshot date can be computed as of that day. valid_to = updated_at of the next version.
CREATE TABLE IF NOT EXISTS core.dossier_history (
    dossier_code              text NOT NULL,       -- MaHoSo
    updated_at                timestamp NOT NULL,  -- NgayCapNhat
    valid_to                  timestamp,
    procedure_code            text NOT NULL,
    agency_code               text NOT NULL,       -- DonViXuLy
    channel                   integer NOT NULL,    -- KenhThucHien: 1 counter (also for NULL), 2 online, 3 post
    status                    integer NOT NULL,    -- TrangThaiHoSo 1..10
    submitted_at              timestamp,
    received_at               timestamp,
    due_at                    timestamp,
    finished_at               timestamp,           -- NgayKetThucXuLy
    returned_at               timestamp,           -- NgayTra
    rejected_at               timestamp,           -- NgayTuChoi
    result_channel            integer,             -- HinhThucTraKetQua
    has_digitized_components  boolean,
    result_digitized          boolean,
    digitally_signed          boolean,
    paid_online               integer,             -- DuocThanhToanTrucTuyen: 0, 1 national portal, 2 provincial gateway
    fee_amount                bigint,              -- sum of DanhSachLePhi.Gia, VND
    supplement_count          integer NOT NULL,    -- len(DanhSachHoSoBoSung)
    applicant_key             text,                -- keyed hash of the applicant's ID number (never the number)
    batch_id                  bigint NOT NULL,
    PRIMARY KEY (dossier_code, updated_at)
);

-- The latest version of each dossier.
CREATE TABLE IF NOT EXISTS core.dossier (
    dossier_code              text PRIMARY KEY,
    updated_at                timestamp NOT NULL,
    procedure_code            text NOT NULL,
    agency_code               text NOT NULL,
    channel                   integer NOT NULL,
    status                    integer NOT NULL,
    submitted_at              timestamp,
    received_at               timestamp,
    due_at                    timestamp,
    finished_at               timestamp,
    returned_at               timestamp,
    rejected_at               timestamp,
    result_channel            integer,
    has_digitized_components  boolean,
    result_digitized          boolean,
    digitally_signed          boolean,
    paid_online               integer,
    fee_amount                bigint,
    supplement_count          integer NOT NULL,
    applicant_key             text,
    batch_id                  bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.dossier (
    batch_id                  bigint NOT NULL,
    dossier_code              text NOT NULL,
    updated_at                timestamp NOT NULL,
    procedure_code            text NOT NULL,
    agency_code               text NOT NULL,
    channel                   integer NOT NULL,
    status                    integer NOT NULL,
    submitted_at              timestamp,
    received_at               timestamp,
    due_at                    timestamp,
    finished_at               timestamp,
    returned_at               timestamp,
    rejected_at               timestamp,
    result_channel            integer,
    has_digitized_components  boolean,
    result_digitized          boolean,
    digitally_signed          boolean,
    paid_online               integer,
    fee_amount                bigint,
    supplement_count          integer NOT NULL,
    applicant_key             text
);

-- Targets (data from the provincial plans and decisions, sql/seeds/targets.csv) --------
CREATE TABLE IF NOT EXISTS core.target (
    province        text NOT NULL,      -- e.g. lao_cai
    year            integer NOT NULL,
    indicator_code  text NOT NULL,
    scope           text NOT NULL,      -- an agency name as the document writes it, or 'level:1|2|3', or 'all'
    agency_code     text,               -- resolved from scope when it names an agency
    target          double precision,   -- 0..1; NULL = not applicable ("Không có phí")
    strict          boolean NOT NULL,   -- "> 5 %": the value must exceed the target
    source          text NOT NULL,      -- the document it comes from
    PRIMARY KEY (province, year, indicator_code, scope)
);

-- Operations --------------------------------------------------------------------
CREATE SEQUENCE IF NOT EXISTS ops.batch_id_seq;

CREATE TABLE IF NOT EXISTS ops.batch (
    batch_id        bigint PRIMARY KEY,
    source          text NOT NULL,        -- onestop | ndxp | vnpost
    entity          text NOT NULL,        -- dossier, agency, ...
    window_start    timestamp,
    window_end      timestamp,
    status          text NOT NULL,        -- running | succeeded | failed
    extracted       bigint,
    loaded          bigint,
    quarantined     bigint,
    started_at      timestamp NOT NULL,
    finished_at     timestamp,
    message         text
);

CREATE TABLE IF NOT EXISTS ops.quarantine (
    source              text NOT NULL,
    entity              text NOT NULL,
    record_key          text NOT NULL,     -- the record's natural key, '?' when missing
    payload_hash        text NOT NULL,     -- sha256 of payload, so a re-run does not duplicate
    payload             text NOT NULL,     -- the record as received, personal data pseudonymized
    failed_expectations text NOT NULL,     -- the expectations the record failed, '; ' separated
    batch_id            bigint NOT NULL,   -- the latest batch that saw it
    PRIMARY KEY (source, entity, record_key, payload_hash)
);

CREATE TABLE IF NOT EXISTS ops.validation_result (
    batch_id        bigint NOT NULL,
    suite           text NOT NULL,
    success         boolean NOT NULL,
    evaluated       integer NOT NULL,
    failed          integer NOT NULL,
    rows_checked    bigint NOT NULL,
    rows_failed     bigint NOT NULL,
    details         text NOT NULL,       -- JSON: per expectation, unexpected counts
    PRIMARY KEY (batch_id, suite)
);

-- Mart --------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS mart.indicator (
    indicator_code   text PRIMARY KEY,
    name_vi          text NOT NULL,
    name_en          text NOT NULL,
    numerator_def    text NOT NULL,
    denominator_def  text NOT NULL
);

CREATE TABLE IF NOT EXISTS mart.indicator_snapshot (
    snapshot_date   date NOT NULL,
    period          text NOT NULL,      -- day | mtd | qtd | ytd
    agency_code     text NOT NULL,
    indicator_code  text NOT NULL,
    numerator       bigint NOT NULL,
    denominator     bigint NOT NULL,
    value           double precision,   -- NULL when denominator = 0
    target          double precision,
    meets_target    boolean,
    PRIMARY KEY (snapshot_date, period, agency_code, indicator_code)
);
