// Package devserver starts Temporal dev servers of a test's own, for
// benchmarks that must not share the stack's.
package devserver

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// Start starts a Temporal dev server of the test's own, in memory
// (the stack's persists to SQLite, whose fsyncs would dominate a
// benchmark), from the stack's pinned CLI in bin/, with the given Keyword
// search attributes and one task queue partition as scripts/temporal.sh
// runs it. It stops when the test ends.
func Start(t testing.TB, searchAttributes []string) client.Client {
	t.Helper()
	c, _ := StartAt(t, searchAttributes)
	return c
}

// StartAt is Start that also returns the server's frontend host:port, for
// benchmarks that run workers in processes of their own.
func StartAt(t testing.TB, searchAttributes []string) (client.Client, string) {
	t.Helper()
	return StartWith(t, searchAttributes)
}

// StartWith is StartAt with more dynamic configuration, each "key=value"
// (e.g. "history.maximumSignalsPerExecution=200").
func StartWith(t testing.TB, searchAttributes []string, dynamicConfig ...string) (client.Client, string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(file), "..", "..", "bin", "temporal")
	quiet := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
	var sa []temporal.SearchAttributeUpdate
	for _, name := range searchAttributes {
		sa = append(sa, temporal.NewSearchAttributeKeyKeyword(name).ValueSet(""))
	}
	// With the default four partitions, tasks wait to be forwarded.
	extra := []string{
		"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
		"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
	}
	for _, kv := range dynamicConfig {
		extra = append(extra, "--dynamic-config-value", kv)
	}
	srv, err := testsuite.StartDevServer(context.Background(), testsuite.DevServerOptions{
		ExistingPath:     bin,
		ClientOptions:    &client.Options{Logger: quiet},
		SearchAttributes: temporal.NewSearchAttributes(sa...),
		LogLevel:         "error",
		ExtraArgs:        extra,
	})
	if err != nil {
		t.Fatalf("start a dev server from %s (run `make up` once to build it): %v", bin, err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv.Client(), srv.FrontendHostPort()
}
