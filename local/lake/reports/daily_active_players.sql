-- Daily active players
-- Distinct players per day (dt) who did anything, and the events they made.
--
-- The since variable (questlog report --since DATE) starts the range;
-- unset, every day counts.
SELECT
    dt,
    count(DISTINCT user_name) AS players,
    count(*) AS events
FROM extracted_events
WHERE user_name IS NOT NULL
  AND dt >= coalesce(getvariable('since'), DATE '0001-01-01')
GROUP BY dt
ORDER BY dt;
