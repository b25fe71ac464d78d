-- Guild to purchase
-- Of the players who joined a guild, the share who bought something
-- afterwards, and how soon: per guild of their first join, and in all
-- (the row with guild_name "(all guilds)").
WITH events AS (
    SELECT
        user_name,
        event_type,
        guild_name,
        event_time,
        -- a player's events in order; equal times keep Kafka's order
        row_number() OVER (PARTITION BY user_name ORDER BY event_time, kafka_partition, kafka_offset) AS seq
    FROM extracted_events
    WHERE user_name IS NOT NULL
      AND dt >= coalesce(getvariable('since'), DATE '0001-01-01')
),
first_join AS (
    SELECT user_name, guild_name, event_time AS joined_at, seq
    FROM events
    WHERE event_type = 'join_a_guild'
    QUALIFY row_number() OVER (PARTITION BY user_name ORDER BY seq) = 1
),
first_purchase AS (
    SELECT j.user_name, min(epoch_ms(e.event_time) - epoch_ms(j.joined_at)) AS wait_ms
    FROM first_join j
    JOIN events e ON e.user_name = j.user_name AND e.seq > j.seq
    WHERE e.event_type IN ('purchase_sword', 'purchase_item')
    GROUP BY j.user_name
)
SELECT
    coalesce(j.guild_name, '(all guilds)') AS guild_name,
    count(*) AS players_joined,
    count(p.wait_ms) AS bought_after_joining,
    round(100 * count(p.wait_ms) / count(*), 1) AS share_pct,
    round(median(p.wait_ms) / 1000, 1) AS median_seconds_to_purchase
FROM first_join j
LEFT JOIN first_purchase p USING (user_name)
GROUP BY GROUPING SETS ((j.guild_name), ())
ORDER BY grouping(j.guild_name), players_joined DESC, guild_name;
