package console

import (
	"net/http"
	"strconv"

	"github.com/questlog/questlog/local/lambda"
)

// logLines is how much of a function's log its page shows.
const logLines = 200

type functionPage struct {
	functionInfo
	Invocations []lambda.Invocation `json:"invocations"`
	Logs        []lambda.LogLine    `json:"logs"`
}

func (s *Server) knownFunction(w http.ResponseWriter, r *http.Request) (functionInfo, bool) {
	name := r.PathValue("name")
	info, ok := s.pipeline.function(name)
	if !ok || s.cfg.Runtime == nil {
		writeError(w, http.StatusNotFound, "no function "+strconv.Quote(name)+" in the template")
		return info, false
	}
	return info, true
}

// handleFunction serves a function's recent invocations and log tail; its
// counters come with the live snapshots.
func (s *Server) handleFunction(w http.ResponseWriter, r *http.Request) {
	info, ok := s.knownFunction(w, r)
	if !ok {
		return
	}
	page := functionPage{functionInfo: info, Invocations: s.cfg.Runtime.Invocations(info.Name), Logs: s.cfg.Runtime.Logs(info.Name, logLines)}
	if page.Invocations == nil {
		page.Invocations = []lambda.Invocation{}
	}
	if page.Logs == nil {
		page.Logs = []lambda.LogLine{}
	}
	writeJSON(w, page)
}

// handleInvocation serves one recent invocation with its log lines.
func (s *Server) handleInvocation(w http.ResponseWriter, r *http.Request) {
	info, ok := s.knownFunction(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	inv, lines, found := s.cfg.Runtime.InvocationLogs(info.Name, id)
	if !found {
		writeError(w, http.StatusNotFound, "invocation "+strconv.Quote(id)+" is not among the last ones of "+info.Name)
		return
	}
	if lines == nil {
		lines = []lambda.LogLine{}
	}
	writeJSON(w, map[string]any{"function": info.Name, "invocation": inv, "logs": lines})
}
