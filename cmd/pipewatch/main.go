// Command pipewatch runs the pipewatch worker and talks to a running stack:
// it starts pipelines, checks health and prints the effective configuration.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pipewatch:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "pipewatch",
		Short:         "Observability for ML pipelines that run as Temporal workflows",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.AddCommand(newWorkerCmd(), newConfigCmd(), newDoctorCmd(), newRunCmd(), newLineageCmd(), newAlertsCmd(), newSentinelCmd(), newDataCmd(), newAuditCmd(), newDashboardsCmd(), newStatsCmd())
	return root
}
