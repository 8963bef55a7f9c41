-- The snapshot rows (indicator, agency) to list (etl/explain.py fills it; list_<kind>.sql reads it):
-- every listing of the date in one query per kind. Filled before the date is prepared, it narrows the dossiers
-- read (agencies.sql) and the items kept (scope.sql) to them; empty, every figure.
DROP VIEW IF EXISTS ind_history;  -- an earlier drill-down's in this session reads it (agencies.sql)
DROP TABLE IF EXISTS exp_wanted;
CREATE TEMPORARY TABLE exp_wanted (
    kind            text NOT NULL,   -- dossier, transaction, service: the list_<kind>.sql that lists it
    indicator_code  text NOT NULL,
    ancestor_code   text NOT NULL,
    figure          integer NOT NULL  -- its number: the listings are sorted by it, not by the two codes
                                      -- (text compared by the collation took most of a year-end sort)
);
