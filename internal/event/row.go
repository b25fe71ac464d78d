package event

// Row is an event as one Parquet row: the event's fields as typed columns,
// plus where the record sat in Kafka. Empty optional fields are written as
// NULL, except a purchase's price: a free item costs 0, which is not
// unknown. The column names are the schema documented in the README.
type Row struct {
	EventID       string `parquet:"event_id"`
	EventType     string `parquet:"event_type,dict"`
	EventTime     int64  `parquet:"event_time,timestamp(millisecond:utc)"`
	SchemaVersion int32  `parquet:"schema_version"`

	UserName  string `parquet:"user_name,optional,dict"`
	GuildName string `parquet:"guild_name,optional,dict"`

	ItemType   string `parquet:"item_type,optional,dict"`
	ItemName   string `parquet:"item_name,optional,dict"`
	ItemRarity string `parquet:"item_rarity,optional,dict"`
	Quantity   int64  `parquet:"quantity,optional"`
	PriceCents *int64 `parquet:"price_cents,optional"`
	Currency   string `parquet:"currency,optional,dict"`
	StoreID    string `parquet:"store_id,optional,dict"`
	CartID     string `parquet:"cart_id,optional"`

	RemoteIP  string            `parquet:"remote_ip,optional,dict"`
	UserAgent string            `parquet:"user_agent,optional,dict"`
	Host      string            `parquet:"host,optional,dict"`
	Headers   map[string]string `parquet:"headers" parquet-key:",dict" parquet-value:",dict"`

	KafkaTopic     string `parquet:"kafka_topic,dict"`
	KafkaPartition int32  `parquet:"kafka_partition"`
	KafkaOffset    int64  `parquet:"kafka_offset"`
	KafkaTimestamp int64  `parquet:"kafka_timestamp,timestamp(millisecond:utc)"`
}

// Source is where a record was read from.
type Source struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp int64 // Unix milliseconds
}

// NewRow flattens e and its Kafka source into a row.
func NewRow(e *Event, src Source) Row {
	return Row{
		EventID:        e.EventID,
		EventType:      e.EventType,
		EventTime:      int64(e.EventTime),
		SchemaVersion:  int32(e.SchemaVersion),
		UserName:       e.UserName,
		GuildName:      e.GuildName,
		ItemType:       e.ItemType,
		ItemName:       e.ItemName,
		ItemRarity:     e.ItemRarity,
		Quantity:       e.Quantity,
		PriceCents:     price(e),
		Currency:       e.Currency,
		StoreID:        e.StoreID,
		CartID:         e.CartID,
		RemoteIP:       e.RemoteIP,
		UserAgent:      e.UserAgent,
		Host:           e.Host,
		Headers:        e.Headers,
		KafkaTopic:     src.Topic,
		KafkaPartition: src.Partition,
		KafkaOffset:    src.Offset,
		KafkaTimestamp: src.Timestamp,
	}
}

// price is a purchase's price_cents, 0 included (the wire leaves a 0
// out), and nil on other events.
func price(e *Event) *int64 {
	if e.PriceCents == 0 && e.EventType != TypePurchaseItem && e.EventType != TypePurchaseSword {
		return nil
	}
	cents := e.PriceCents // a copy: a pointer into e would keep e on the heap
	return &cents
}
