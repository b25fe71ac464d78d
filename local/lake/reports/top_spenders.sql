-- Top spenders
-- The ten players who spent the most in each currency.
WITH spent AS (
    SELECT
        currency,
        user_name,
        count(*) AS purchases,
        sum(quantity)::BIGINT AS items,
        sum(price_cents) AS spent_cents
    FROM extracted_events
    WHERE event_type IN ('purchase_sword', 'purchase_item')
      AND dt >= coalesce(getvariable('since'), DATE '0001-01-01')
    GROUP BY ALL
)
SELECT
    currency,
    rank,
    user_name,
    purchases,
    items,
    round(spent_cents / 100, 2) AS spent
FROM (
    SELECT *, row_number() OVER (PARTITION BY currency ORDER BY spent_cents DESC, user_name) AS rank
    FROM spent
)
WHERE rank <= 10
ORDER BY currency, rank;
