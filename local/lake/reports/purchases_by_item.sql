-- Purchases by item
-- Purchases, items sold and revenue per item and rarity, per currency
-- (prices are in the currency's units: price_cents / 100).
SELECT
    currency,
    item_type,
    item_name,
    item_rarity,
    count(*) AS purchases,
    sum(quantity)::BIGINT AS quantity,
    round(sum(price_cents) / 100, 2) AS revenue
FROM extracted_events
WHERE event_type IN ('purchase_sword', 'purchase_item')
  AND dt >= coalesce(getvariable('since'), DATE '0001-01-01')
GROUP BY ALL
ORDER BY currency, revenue DESC, item_type;
