package cli

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

func init() {
	register(Command{
		Name:     "version",
		Summary:  "print questlog's version (module version or VCS revision) and Go version",
		Examples: []string{"questlog version"},
		Setup:    setupVersion,
	})
}

func setupVersion(*flag.FlagSet) Run {
	return func(_ context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		fmt.Println(version())
		return nil
	}
}

// version is the module version of a `go install …@version` build, or the
// VCS revision of a build in a checkout.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "questlog (unknown version)"
	}
	v := info.Main.Version
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" && (v == "" || v == "(devel)") {
		v = rev[:min(12, len(rev))]
		if settings["vcs.modified"] == "true" {
			v += "+dirty"
		}
	}
	return fmt.Sprintf("questlog %s %s", v, info.GoVersion)
}
