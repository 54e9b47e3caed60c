package main

import (
	"github.com/spf13/cobra"

	"github.com/pipewatch/pipewatch/worker"
)

func newWorkerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the pipewatch worker: Temporal worker, /metrics, /healthz, /readyz",
		Example: `  pipewatch worker
  pipewatch worker --config /etc/pipewatch/pipewatch.yaml
  PIPEWATCH_NEO4J_PASSWORD_FILE=/run/secrets/neo4j pipewatch worker --temporal-address temporal.internal:7233 --temporal-namespace ml
  pipewatch worker --alerts-channels log,webhook --alerts-webhook-url-file /run/secrets/hook --sentinel-enabled=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := worker.Load(worker.Sources{Flags: cmd.Flags()})
			if err != nil {
				return err
			}
			logs, err := worker.OpenLogs(cfg.Log, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer logs.Close()
			return worker.Run(cmd.Context(), cfg, logs, worker.Options{Version: version})
		},
	}
	worker.BindFlags(cmd.Flags()) // every section: the worker reads them all
	return cmd
}

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect the configuration"}
	print := &cobra.Command{
		Use:   "print",
		Short: "Print the effective configuration (defaults, file, env, flags) with secrets masked",
		Example: `  pipewatch config print
  pipewatch config print --config pipewatch.yaml --log-retention 30d > effective.yaml   # YAML that --config accepts back
  PIPEWATCH_SENTINEL_INTERVAL=30s pipewatch config print | grep -A 11 '^sentinel:'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := worker.Load(worker.Sources{Flags: cmd.Flags()})
			if err != nil {
				return err
			}
			return worker.Print(cmd.OutOrStdout(), cfg)
		},
	}
	worker.BindFlags(print.Flags()) // every section
	cmd.AddCommand(print)
	return cmd
}
