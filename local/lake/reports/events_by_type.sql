-- Events by type
-- Events per day (dt) and type, with the players who made them.
SELECT
    dt,
    event_type,
    count(*) AS events,
    count(DISTINCT user_name) AS players
FROM extracted_events
WHERE dt >= coalesce(getvariable('since'), DATE '0001-01-01')
GROUP BY dt, event_type
ORDER BY dt, event_type;
