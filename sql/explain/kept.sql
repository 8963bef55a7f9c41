-- The first :keep_out items of each listed figure ({listed}: exp_listed_<kind>) that miss (in the
-- denominator, not in the numerator), in the listing's order: those the dashboard shows.
SELECT * FROM (
    SELECT l.*, row_number() OVER (PARTITION BY figure ORDER BY seq) AS kept
    FROM {listed} l
    WHERE in_den = 1 AND in_num = 0
) k
WHERE kept <= :keep_out
ORDER BY seq;
