-- Inventory leaderboard
-- Players by the items they own, from their latest inventory snapshot
-- (the inventory dataset holds one snapshot per player per batch that
-- changed it).
WITH latest AS (
    SELECT *
    FROM inventory
    WHERE dt >= coalesce(getvariable('since'), DATE '0001-01-01')
    QUALIFY row_number() OVER (PARTITION BY user_name ORDER BY updated_at DESC, kafka_offset DESC) = 1
)
SELECT
    row_number() OVER (ORDER BY list_sum(map_values(items)) DESC, user_name) AS rank,
    user_name,
    list_sum(map_values(items))::BIGINT AS items_owned,
    cardinality(items)::BIGINT AS item_kinds,
    purchases,
    spent_cents,
    updated_at
FROM latest
ORDER BY rank;
