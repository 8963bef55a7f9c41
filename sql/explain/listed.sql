-- A kind's listing ({listed}: exp_listed_<kind>, filled by list_<kind>.sql), figure by figure in the
-- listing's order.
SELECT * FROM {listed} ORDER BY seq;
