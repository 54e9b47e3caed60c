package main

import (
	"github.com/spf13/cobra"

	"github.com/pipewatch/pipewatch/worker"
)

func newWorkerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the pipewatch worker: Temporal worker, /metrics, /healthz, /readyz",
		Args:  cobra.NoArgs,
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
	worker.BindFlags(cmd.Flags())
	return cmd
}

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect the configuration"}
	print := &cobra.Command{
		Use:   "print",
		Short: "Print the effective configuration (defaults, file, env, flags) with secrets masked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := worker.Load(worker.Sources{Flags: cmd.Flags()})
			if err != nil {
				return err
			}
			return worker.Print(cmd.OutOrStdout(), cfg)
		},
	}
	worker.BindFlags(print.Flags())
	cmd.AddCommand(print)
	return cmd
}
