// Command filter is every filter job: the CEL predicate in FILTER picks the
// munged events that land in DATASET, so a new filter job is a new function
// in template.yaml, not new code.
package main

import (
	"github.com/questlog/questlog/internal/filter"
	"github.com/questlog/questlog/internal/fnenv"
	"github.com/questlog/questlog/internal/job"
)

func main() {
	job.Start(func(env *fnenv.Env) (job.Transform, error) {
		expr := env.Required("FILTER")
		if expr == "" {
			return nil, env.Err()
		}
		p, err := filter.Compile(expr)
		if err != nil {
			return nil, err
		}
		return job.Filter(p), nil
	})
}
