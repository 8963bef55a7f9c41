-- Per listed figure of one kind ({listed}: exp_listed_<kind>, filled by list_<kind>.sql): its items,
-- how many are in the numerator and in the denominator, and how many miss (in the denominator, not
-- in the numerator).
SELECT figure, COUNT(*) AS items, SUM(in_num) AS in_num, SUM(in_den) AS in_den,
       SUM(CASE WHEN in_den = 1 AND in_num = 0 THEN 1 ELSE 0 END) AS missed
FROM {listed}
GROUP BY figure;
