// Package console is questlog's web console: the pipeline of the template
// live on one page (routes → topic → event-source mappings → functions →
// datasets), the functions with their invocations and logs, the topics
// with their newest records, the datasets with their files, rows and dead
// letters, one event's whole way from its route to its Parquet row, SQL
// over the lake with charts, and the game's own numbers.
//
// It is read-only: nothing it serves changes data or configuration. Its
// pages are embedded in the binary (no CDN, no internet); charts are drawn
// by Apache ECharts, vendored under assets/vendor (see the README there).
// Live numbers reach the pages as server-sent events from one sampler, and
// everything it remembers is kept in fixed-size rings.
package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/esm"
	"github.com/questlog/questlog/local/lake"
	"github.com/questlog/questlog/local/lambda"
	"github.com/questlog/questlog/local/template"
)

// DefaultPort is the console's port unless --console-port says otherwise.
const DefaultPort = 3030

//go:embed assets
var assets embed.FS

// Mapping is a running event-source mapping as the console sees it.
type Mapping struct {
	esm.Mapping
	Stats *esm.Stats
	// LastBatch returns when the mapping last settled a batch (zero if
	// never).
	LastBatch func() time.Time
}

// Config is what the console shows and where it listens.
type Config struct {
	// Addr is the listen address, e.g. 127.0.0.1:3030 (port 0 picks one).
	Addr        string
	Template    *template.Template
	Runtime     *lambda.Runtime
	Mappings    []Mapping
	Brokers     []string
	DatasetRoot string
	APIURL      string
	// ProjectDir and DataDir are the emulator's: the SQL engine is built
	// from the project's source and mirrors HDFS into the data directory.
	ProjectDir, DataDir string
	Logger              *slog.Logger

	// SQLSocket also answers questlog sql and report with the console's
	// engine, on a socket in DataDir (see lake.ServeSocket); the caller
	// must own DataDir.
	SQLSocket bool
}

// Server is a running console.
type Server struct {
	cfg      Config
	url      string
	srv      *http.Server
	kafka    *kgo.Client
	admin    *kadm.Client
	store    store.Store
	lake     *lake.Client
	socket   *lake.SocketServer
	pipeline *pipeline
	live     *live
	datasets *datasets
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// Start listens on cfg.Addr and serves the console until Close.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("the console cannot listen on %s: %w (choose another with --console-port)", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, url: "http://" + l.Addr().String()}
	ok := false
	defer func() {
		if !ok {
			l.Close()
			s.closeClients()
		}
	}()
	if len(cfg.Brokers) > 0 {
		if s.kafka, err = kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...)); err != nil {
			return nil, fmt.Errorf("console: kafka client: %w", err)
		}
		s.admin = kadm.NewClient(s.kafka)
	}
	if cfg.DatasetRoot != "" {
		if s.store, err = store.Open(ctx, cfg.DatasetRoot); err != nil {
			return nil, fmt.Errorf("console: open the datasets at %s: %w", cfg.DatasetRoot, err)
		}
		// The engine process starts with the first query.
		if s.lake, err = lake.Open(ctx, lake.Config{ProjectDir: cfg.ProjectDir, DataDir: cfg.DataDir, DatasetRoot: cfg.DatasetRoot, Logger: cfg.Logger}); err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		if cfg.SQLSocket {
			if s.socket, err = lake.ServeSocket(s.lake, cfg.DataDir, cfg.Logger); err != nil {
				return nil, fmt.Errorf("console: %w", err)
			}
		}
	}
	s.pipeline = newPipeline(cfg)
	s.datasets = newDatasets(s.store, s.pipeline.datasetNames())
	s.live = newLive(s)

	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.wg.Go(func() { s.live.run(runCtx) })
	s.wg.Go(func() { s.live.scanDatasets(runCtx) })

	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Go(func() {
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("console stopped", "addr", s.url, "err", err)
		}
	})
	ok = true
	return s, nil
}

// URL is the console's address, http://host:port.
func (s *Server) URL() string { return s.url }

// Close stops serving; open event streams end.
func (s *Server) Close(ctx context.Context) error {
	s.stop()
	s.live.closeSubscribers()
	err := s.srv.Shutdown(ctx)
	s.wg.Wait()
	s.closeClients()
	return err
}

func (s *Server) closeClients() {
	if s.socket != nil {
		s.socket.Close()
	}
	if s.kafka != nil {
		s.kafka.Close()
	}
	if s.store != nil {
		s.store.Close()
	}
	if s.lake != nil {
		s.lake.Close()
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(static)
	mux.Handle("GET /", files)
	mux.HandleFunc("GET /vendor/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400") // vendored files change only with the binary
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /api/pipeline", s.handlePipeline)
	mux.HandleFunc("GET /api/live", s.live.serveEvents)
	mux.HandleFunc("GET /api/functions/{name}", s.handleFunction)
	mux.HandleFunc("GET /api/functions/{name}/invocations/{id}", s.handleInvocation)
	mux.HandleFunc("GET /api/topics/{name}/records", s.handleRecords)
	mux.HandleFunc("GET /api/datasets/{name...}", s.handleDataset)
	mux.HandleFunc("GET /api/rows/{name...}", s.handleRows)
	mux.HandleFunc("GET /api/rejected/{name...}", s.handleRejected)
	mux.HandleFunc("GET /api/trace/{id}", s.handleTrace)
	mux.HandleFunc("POST /api/query", s.handleQuery)
	mux.HandleFunc("GET /api/query.csv", s.handleCSV)
	mux.HandleFunc("GET /api/tables", s.handleTables)
	mux.HandleFunc("GET /api/reports", s.handleReports)
	mux.HandleFunc("GET /api/reports/{name}", s.handleReport)
	mux.HandleFunc("GET /api/game/{panel}", s.handleGamePanel)
	mux.HandleFunc("GET /api/player/{name}", s.handlePlayer)
	return readOnly(mux)
}

// readOnly refuses every method that could change something: the console
// only shows. The one POST is a query, which the sandboxed engine runs
// read-only.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !(r.Method == http.MethodPost && r.URL.Path == "/api/query") {
			writeError(w, http.StatusMethodNotAllowed, "the console is read-only")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The client went away or v cannot be encoded; nothing to tell it.
		return
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// requestContext bounds an API request's work.
func requestContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 15*time.Second)
}
