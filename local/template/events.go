package template

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"
)

// HTTPEvent is an HttpApi or Api event: one route of an API.
type HTTPEvent struct {
	Name string // logical name under Events
	// Type is "HttpApi" or "Api" (REST).
	Type string
	// Path and Method are both empty for an HTTP API's catch-all $default
	// route. Method is upper case; "ANY" matches every method. Path may hold
	// {name} variables and a final greedy {name+}.
	Path, Method string
	// PayloadFormatVersion is "2.0" or "1.0". Default: "2.0" for HttpApi;
	// always "1.0" for Api.
	PayloadFormatVersion string
	// APIID is the logical ID of the API: ApiId/RestApiId's target, or
	// ServerlessHttpApi / ServerlessRestApi when unset.
	APIID string
	// TimeoutInMillis is the integration timeout; 0 = unset (API Gateway's
	// default then applies: 30 000 for HTTP APIs, 29 000 for REST APIs).
	TimeoutInMillis int
}

// IsDefaultRoute reports whether e is an HTTP API's $default route.
func (e HTTPEvent) IsDefaultRoute() bool { return e.Path == "" && e.Method == "" }

// KafkaEvent is a SelfManagedKafka event source mapping.
//
// SourceAccessConfigurations (auth, VPC) is read by nothing: the local
// broker needs no credentials. Retry controls (MaximumRetryAttempts,
// BisectBatchOnFunctionError, …) and DestinationConfig are not modelled.
type KafkaEvent struct {
	Name  string // logical name under Events
	Topic string // Topics must hold exactly one topic
	// BootstrapServers is KafkaBootstrapServers (host:port). Required.
	BootstrapServers []string
	// StartingPosition is TRIM_HORIZON, LATEST or AT_TIMESTAMP. Required.
	StartingPosition string
	// StartingPositionTimestamp is set with AT_TIMESTAMP (from Unix seconds).
	StartingPositionTimestamp time.Time
	// BatchSize is the maximum records per invoke, 1..10000. Default: 100.
	BatchSize int
	// BatchingWindow is MaximumBatchingWindowInSeconds (0..300 s).
	// Default: 500ms, Lambda's default for Kafka sources.
	BatchingWindow time.Duration
	// ConsumerGroupID is ConsumerGroupId; "" means Lambda picks a unique
	// group (the emulator decides what to use).
	ConsumerGroupID string
	// FilterPatterns are FilterCriteria.Filters[].Pattern (JSON text), at
	// most 5; a record is kept if any pattern matches.
	FilterPatterns []string
	// Enabled is false when the mapping is disabled. Default: true.
	Enabled bool
}

var (
	httpMethods       = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}
	startingPositions = []string{"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"}
)

func (l *loader) events(fn *Function, props map[string]any, pp string) error {
	raw, ok := props["Events"]
	if !ok || raw == nil {
		return nil
	}
	evs, isMap := raw.(map[string]any)
	if !isMap {
		return invalidf(pp+".Events", "must be a mapping, got %s", kindOf(raw))
	}
	for _, name := range sortedKeys(evs) {
		path := pp + ".Events." + name
		ev, isMap := evs[name].(map[string]any)
		if !isMap {
			return invalidf(path, "must be a mapping with Type and Properties")
		}
		typ, _ := ev["Type"].(string)
		if typ == "" {
			return invalidf(path+".Type", "missing")
		}
		epath := path + ".Properties"
		rawProps := ev["Properties"]
		if isIntrinsic(rawProps) {
			// e.g. Properties: !If [Cond, {…}, {…}]
			v, err := l.r.resolve(rawProps, epath)
			if err != nil {
				return err
			}
			if _, ok := v.(noValue); ok {
				v = nil
			}
			rawProps = v
		}
		ep, _ := rawProps.(map[string]any)
		if rawProps != nil && ep == nil {
			return invalidf(epath, "must be a mapping, got %s", kindOf(rawProps))
		}
		if ep == nil {
			ep = map[string]any{}
		}
		switch typ {
		case "HttpApi", "Api":
			e, err := l.httpEvent(name, typ, ep, epath)
			if err != nil {
				return err
			}
			fn.HTTPEvents = append(fn.HTTPEvents, e)
		case "SelfManagedKafka":
			e, err := l.kafkaEvent(name, ep, epath)
			if err != nil {
				return err
			}
			fn.KafkaEvents = append(fn.KafkaEvents, e)
		default:
			fn.OtherEvents = append(fn.OtherEvents, OtherEvent{Name: name, Type: typ})
		}
	}
	return nil
}

func (l *loader) httpEvent(name, typ string, props map[string]any, pp string) (HTTPEvent, error) {
	e := HTTPEvent{Name: name, Type: typ}
	var err error
	if e.Path, err = l.stringProp(props, "Path", pp); err != nil {
		return e, err
	}
	if e.Method, err = l.stringProp(props, "Method", pp); err != nil {
		return e, err
	}
	e.Method = strings.ToUpper(e.Method)
	if typ == "HttpApi" && e.Path == "$default" {
		// The catch-all route spelled out; the method does not matter.
		e.Path, e.Method = "", ""
	}
	switch {
	case e.Path == "" && e.Method == "" && typ == "HttpApi":
		// $default route.
	case e.Path == "" || e.Method == "":
		if typ == "Api" {
			return e, invalidf(pp, "Api events need both Path and Method")
		}
		return e, invalidf(pp, "HttpApi events need both Path and Method, or neither for the $default route")
	default:
		if !slices.Contains(httpMethods, e.Method) {
			return e, invalidf(pp+".Method", "%q is not one of %s", e.Method, strings.Join(httpMethods, ", "))
		}
		if err := checkRoutePath(e.Path); err != nil {
			return e, invalidf(pp+".Path", "%q: %v", e.Path, err)
		}
	}

	apiKey, implicit, maxTimeout := "ApiId", ImplicitHTTPAPI, 30000
	if typ == "Api" {
		apiKey, implicit, maxTimeout = "RestApiId", ImplicitRestAPI, 29000
	}
	if e.APIID, err = l.stringProp(props, apiKey, pp); err != nil {
		return e, err
	}
	if e.APIID == "" {
		e.APIID = implicit
	}

	e.PayloadFormatVersion = "1.0"
	if typ == "HttpApi" {
		if e.PayloadFormatVersion, err = l.stringProp(props, "PayloadFormatVersion", pp); err != nil {
			return e, err
		}
		switch e.PayloadFormatVersion {
		case "":
			e.PayloadFormatVersion = "2.0"
		case "1.0", "2.0":
		default:
			return e, invalidf(pp+".PayloadFormatVersion", "%q is not 1.0 or 2.0", e.PayloadFormatVersion)
		}
	}
	if e.TimeoutInMillis, err = l.intProp(props, "TimeoutInMillis", pp, 0, 50, maxTimeout); err != nil {
		return e, err
	}
	return e, nil
}

// checkRoutePath applies API Gateway's route rules: a leading slash,
// {name} variables, and a greedy {name+} only as the last segment.
func checkRoutePath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return errString("must start with /")
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if !strings.ContainsAny(s, "{}") {
			continue
		}
		if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") || len(s) < 3 || strings.Count(s, "{") != 1 {
			return errString("a path variable must be a whole segment like {id}")
		}
		if strings.HasSuffix(s, "+}") && i != len(segs)-1 {
			return errString("a greedy variable {name+} must be the last segment")
		}
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

func (l *loader) kafkaEvent(name string, props map[string]any, pp string) (KafkaEvent, error) {
	e := KafkaEvent{Name: name, Enabled: true}
	topics, ok, err := l.stringList(props, "Topics", pp)
	if err != nil {
		return e, err
	}
	if !ok || len(topics) != 1 || topics[0] == "" {
		return e, invalidf(pp+".Topics", "SelfManagedKafka needs exactly one topic, got %d", len(topics))
	}
	e.Topic = topics[0]

	servers, ok, err := l.stringList(props, "KafkaBootstrapServers", pp)
	if err != nil {
		return e, err
	}
	if !ok || len(servers) == 0 {
		return e, invalidf(pp+".KafkaBootstrapServers", "required (a list of host:port)")
	}
	for i, s := range servers {
		if s == "" {
			return e, invalidf(joinPath(pp+".KafkaBootstrapServers", i), "empty")
		}
	}
	e.BootstrapServers = servers

	if e.StartingPosition, err = l.stringProp(props, "StartingPosition", pp); err != nil {
		return e, err
	}
	if !slices.Contains(startingPositions, e.StartingPosition) {
		if e.StartingPosition == "" {
			return e, invalidf(pp+".StartingPosition", "required (%s)", strings.Join(startingPositions, ", "))
		}
		return e, invalidf(pp+".StartingPosition", "%q is not one of %s", e.StartingPosition, strings.Join(startingPositions, ", "))
	}
	ts, hasTS, err := l.prop(props, "StartingPositionTimestamp", pp)
	if err != nil {
		return e, err
	}
	switch {
	case e.StartingPosition == "AT_TIMESTAMP" && !hasTS:
		return e, invalidf(pp+".StartingPositionTimestamp", "required with AT_TIMESTAMP")
	case e.StartingPosition != "AT_TIMESTAMP" && hasTS:
		return e, invalidf(pp+".StartingPositionTimestamp", "only valid with StartingPosition AT_TIMESTAMP")
	case hasTS:
		secs, ok := toFloat(ts)
		if !ok || secs < 0 {
			return e, invalidf(pp+".StartingPositionTimestamp", "must be Unix seconds, got %v", ts)
		}
		whole, frac := math.Modf(secs)
		e.StartingPositionTimestamp = time.Unix(int64(whole), int64(frac*1e9)).UTC()
	}

	if e.BatchSize, err = l.intProp(props, "BatchSize", pp, 100, 1, 10000); err != nil {
		return e, err
	}
	window, err := l.intProp(props, "MaximumBatchingWindowInSeconds", pp, -1, 0, 300)
	if err != nil {
		return e, err
	}
	e.BatchingWindow = 500 * time.Millisecond
	if window >= 0 {
		e.BatchingWindow = time.Duration(window) * time.Second
	}
	if e.ConsumerGroupID, err = l.stringProp(props, "ConsumerGroupId", pp); err != nil {
		return e, err
	}
	if len(e.ConsumerGroupID) > 200 {
		return e, invalidf(pp+".ConsumerGroupId", "longer than 200 characters")
	}
	if v, ok, err := l.prop(props, "Enabled", pp); err != nil {
		return e, err
	} else if ok {
		if e.Enabled, ok = toBool(v); !ok {
			return e, invalidf(pp+".Enabled", "must be a boolean, got %v", v)
		}
	}
	if e.FilterPatterns, err = l.filterPatterns(props, pp); err != nil {
		return e, err
	}
	return e, nil
}

func (l *loader) filterPatterns(props map[string]any, pp string) ([]string, error) {
	v, ok, err := l.prop(props, "FilterCriteria", pp)
	if err != nil || !ok {
		return nil, err
	}
	fp := pp + ".FilterCriteria"
	fc, isMap := v.(map[string]any)
	if !isMap {
		return nil, invalidf(fp, "must be a mapping with Filters, got %s", kindOf(v))
	}
	filters, isList := fc["Filters"].([]any)
	if !isList {
		return nil, invalidf(fp+".Filters", "must be a list of {Pattern: …}")
	}
	if len(filters) > 5 {
		return nil, invalidf(fp+".Filters", "at most 5 filters, got %d", len(filters))
	}
	out := make([]string, 0, len(filters))
	for i, f := range filters {
		path := joinPath(fp+".Filters", i)
		m, isMap := f.(map[string]any)
		if !isMap {
			return nil, invalidf(path, "must be {Pattern: …}")
		}
		p, isString := m["Pattern"].(string)
		if !isString {
			return nil, invalidf(path+".Pattern", "must be a JSON string")
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(p), &obj); err != nil {
			return nil, invalidf(path+".Pattern", "not a JSON object: %v", err)
		}
		out = append(out, p)
	}
	return out, nil
}
