-- Sword purchases by player
-- The reference project's question: who bought swords, how many, and when
-- (from sword_purchases_hits, the swords of either purchase route).
SELECT
    user_name,
    count(*) AS purchases,
    sum(quantity)::BIGINT AS swords,
    min(event_time) AS first_purchase,
    max(event_time) AS last_purchase
FROM sword_purchases_hits
WHERE dt >= coalesce(getvariable('since'), DATE '0001-01-01')
GROUP BY user_name
ORDER BY swords DESC, user_name;
