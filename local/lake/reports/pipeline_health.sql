-- Pipeline health
-- Per dataset: rows, the newest event and how long ago it happened (the
-- freshness lag), and its dead letters by reason. Datasets that are
-- declared but hold nothing yet show 0 rows.
WITH datasets AS (
    SELECT view_name AS dataset
    FROM duckdb_views()
    WHERE NOT internal AND schema_name = 'main' AND view_name NOT IN ('all_events', 'rejected')
),
landed AS (
    SELECT dataset, count(*) AS rows, max(event_time) AS newest
    FROM all_events
    WHERE dt >= coalesce(getvariable('since'), DATE '0001-01-01')
    GROUP BY dataset
    UNION ALL
    SELECT 'inventory', count(*), max(updated_at)
    FROM inventory
    WHERE dt >= coalesce(getvariable('since'), DATE '0001-01-01')
),
reasons AS (
    SELECT dataset, reason, count(*) AS n
    FROM rejected
    WHERE dt >= coalesce(getvariable('since'), DATE '0001-01-01')
    GROUP BY dataset, reason
),
dead AS (
    SELECT dataset, sum(n)::BIGINT AS dead_letters, map_from_entries(list((reason, n) ORDER BY n DESC, reason)) AS by_reason
    FROM reasons
    GROUP BY dataset
)
SELECT
    dataset,
    coalesce(l.rows, 0) AS rows,
    l.newest AS newest_event,
    round(epoch(now()) - epoch(l.newest), 1) AS lag_seconds,
    coalesce(d.dead_letters, 0) AS dead_letters,
    d.by_reason AS dead_letters_by_reason
FROM datasets
FULL JOIN landed l USING (dataset)
FULL JOIN dead d USING (dataset)
ORDER BY dataset;
