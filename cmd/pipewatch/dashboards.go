package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipewatch/pipewatch/deploy/dashboards"
)

func newDashboardsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dashboards",
		Short: "Export pipewatch's six Grafana dashboards as JSON, or install them into a Grafana",
	}
	cmd.AddCommand(newDashboardsExportCmd(), newDashboardsInstallCmd())
	return cmd
}

func newDashboardsExportCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "export --dir <dir>",
		Short: "Write the six dashboards' JSON files (one per dashboard) into a folder",
		Example: `  # Regenerate the committed dashboards after changing deploy/dashboards:
  pipewatch dashboards export --dir deploy/grafana/dashboards`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, err := dashboards.Export(dir)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder to write the JSON files into (made if missing)")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func newDashboardsInstallCmd() *cobra.Command {
	var (
		opts      dashboards.InstallOptions
		tokenFile string
		timeout   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "install --grafana-url <url> [--token-file <file>] [--folder <name>] [--datasource-url <prometheus-url>]",
		Short: "Create or update the folder, the Prometheus data source (optional) and the six dashboards in a Grafana (9 or later)",
		Example: `  # Into a team's Grafana, with a service account token (role Editor; Admin with --datasource-url):
  pipewatch dashboards install --grafana-url https://grafana.example.com --token-file ~/.config/pipewatch/grafana-token

  # Also create the Prometheus data source the dashboards open on:
  pipewatch dashboards install --grafana-url http://127.0.0.1:3000 --token-file token \
    --datasource-url http://prometheus:9090 --folder "ML pipelines"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return fmt.Errorf("read the Grafana token: %w", err)
				}
				opts.Token = strings.TrimSpace(string(b))
				if opts.Token == "" {
					return fmt.Errorf("the Grafana token file %s is empty", tokenFile)
				}
			}
			opts.Client = &http.Client{Timeout: timeout}
			rep, err := dashboards.Install(cmd.Context(), opts)
			if err != nil {
				return fmt.Errorf("install dashboards into %s: %w", opts.URL, err)
			}
			out := cmd.OutOrStdout()
			state := "existing"
			if rep.FolderCreated {
				state = "created"
			}
			fmt.Fprintf(out, "Grafana %s: folder %q (uid %s, %s)\n", rep.GrafanaVersion, opts.Folder, rep.FolderUID, state)
			if rep.Datasource != "" {
				fmt.Fprintf(out, "data source %s (%s): %s\n", dashboards.DefaultDatasourceUID, opts.DatasourceURL, rep.Datasource)
			}
			for _, d := range rep.Dashboards {
				fmt.Fprintf(out, "  %-22s version %-3d %s%s\n", d.UID, d.Version, strings.TrimRight(opts.URL, "/"), d.URL)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.URL, "grafana-url", "", "Grafana's root URL, e.g. http://127.0.0.1:3000")
	f.StringVar(&tokenFile, "token-file", "", "file holding a Grafana service account token or API key (sent as a Bearer token, never printed)")
	f.StringVar(&opts.Folder, "folder", dashboards.DefaultFolder, "title of the folder to put the dashboards in (reused when it exists)")
	f.StringVar(&opts.DatasourceURL, "datasource-url", "", "create or update a Prometheus data source at this URL (as Grafana's server reaches it)")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "timeout of each call to Grafana")
	_ = cmd.MarkFlagRequired("grafana-url")
	return cmd
}
