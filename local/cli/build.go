package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"

	"github.com/questlog/questlog/local/build"
	"github.com/questlog/questlog/local/template"
)

func init() {
	register(Command{
		Name: "build", Args: "[LogicalId...] [--force]",
		Summary: "build functions into .aws-sam/build, like sam build",
		Examples: []string{
			"questlog build",
			"questlog build ExtractFunction DefaultHitsFilter --force",
		},
		Setup: setupBuild,
	})
}

func setupBuild(fs *flag.FlagSet) Run {
	var c common
	c.register(fs, "info")
	force := fs.Bool("force", false, "rebuild functions whose sources did not change")
	return func(ctx context.Context, ids []string) error {
		if err := c.finish(); err != nil {
			return err
		}
		path := c.cfg.Template
		if path == "" {
			path = "template.yaml"
		}
		tpl, err := template.Load(path, template.Options{ParameterOverrides: c.cfg.ParameterOverrides, LookupEnv: func(string) (string, bool) { return "", false }})
		if err != nil {
			return err
		}
		var targets []build.Target
		for _, fn := range tpl.Functions {
			if len(ids) > 0 && !slices.Contains(ids, fn.LogicalID) {
				continue
			}
			targets = append(targets, build.Target{LogicalID: fn.LogicalID, Architecture: fn.Architecture(), BuildMethod: fn.BuildMethod})
		}
		if len(targets) == 0 {
			return fmt.Errorf("no function named %v in %s", ids, path)
		}
		opts := build.Options{ProjectDir: tpl.Dir, Logger: c.cfg.Logger, Force: *force, Output: os.Stderr}
		results, err := build.Build(ctx, targets, opts)
		if err == nil {
			_, err = build.WriteTemplate(path, opts)
		}
		for _, r := range results {
			state := "built"
			if r.Skipped {
				state = "unchanged"
			}
			if r.Err == nil {
				fmt.Printf("%-28s %-9s %s\n", r.LogicalID, state, r.Bootstrap)
			}
		}
		return err
	}
}
