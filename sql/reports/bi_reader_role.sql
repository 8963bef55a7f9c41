-- PostgreSQL only: the read-only role for BI tools. It may read the mart schema and nothing
-- else (no USAGE on staging, core or ops). Idempotent: run by every migrate
-- (etl.reports.bi.after_migrate), which substitutes the role name for dvc_bi_reader and, when
-- DVC_BI_READER_PASSWORD is set, gives it LOGIN with that password (otherwise it stays NOLOGIN:
-- GRANT dvc_bi_reader TO a BI tool's own login role).
-- Roles belong to the cluster: another database's migrate may create it at the same moment.
-- (one line: the statement splitter splits at a semicolon that ends a line)
DO $$ BEGIN CREATE ROLE dvc_bi_reader NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;

GRANT USAGE ON SCHEMA mart TO dvc_bi_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA mart TO dvc_bi_reader;
-- mart objects created later by the role that migrates are readable too
ALTER DEFAULT PRIVILEGES IN SCHEMA mart GRANT SELECT ON TABLES TO dvc_bi_reader;

REVOKE ALL ON SCHEMA staging, core, ops FROM dvc_bi_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA staging, core, ops FROM dvc_bi_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA ops FROM dvc_bi_reader;
REVOKE CREATE ON SCHEMA public FROM dvc_bi_reader;
