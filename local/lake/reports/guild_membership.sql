-- Guild membership
-- Joins per guild, distinct members, and the first and last join
-- (from guild_joins).
SELECT
    guild_name,
    count(DISTINCT user_name) AS members,
    count(*) AS joins,
    min(event_time) AS first_join,
    max(event_time) AS last_join
FROM guild_joins
WHERE dt >= coalesce(getvariable('since'), DATE '0001-01-01')
GROUP BY guild_name
ORDER BY members DESC, guild_name;
