-- Descriptions of the codes for BI tools (CONTRACT.md).
CREATE OR REPLACE VIEW mart.agency AS
SELECT agency_code, name, level, parent_code, valid_from, valid_to
FROM core.agency;
