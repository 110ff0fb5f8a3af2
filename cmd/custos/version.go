package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X main.Version=v1.2.3".
var Version = "dev"

// buildInfo describes the binary: version, commit, Go version.
func buildInfo() (version, commit, goVersion string, modified bool) {
	version, commit = Version, "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, commit, "unknown", false
	}
	goVersion = bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return version, commit, goVersion, modified
}

func runVersion(ctx context.Context, e env, args []string) error {
	fs, _ := newFlags(e, "version", "", "Print the version, the commit it was built from and the Go toolchain (UPD-1).", "none")
	if err := parse(fs, args); err != nil {
		return err
	}
	v, c, g, m := buildInfo()
	if m {
		c += " (modified)"
	}
	fmt.Fprintf(e.stdout, "custos %s\ncommit %s\ngo %s\n", v, c, g)
	return nil
}
