// Package dashboards defines pipewatch's six Grafana dashboards as code,
// with the Grafana Foundation SDK (github.com/grafana/grafana-foundation-sdk/go),
// and installs them into a Grafana through its HTTP API.
//
// The dashboards are ML Pipeline Overview, Data Ingestion, Training, Data
// Drift, Resource Monitoring and Alerts. Each has a stable uid, a Prometheus
// data source variable and the pipeline, step and model variables it uses
// (query variables over label_values of series the worker exports), links to
// the other five, and a unit on every panel.
//
// The JSON under deploy/grafana/dashboards is generated from this package
// and committed, so that Grafana's file provisioning (docker-compose.yml)
// loads it; a test compares it byte for byte. Regenerate it with
//
//	go run ./cmd/pipewatch dashboards export --dir deploy/grafana/dashboards
//
// Install installs the same dashboards into a running Grafana (9 or later):
// `pipewatch dashboards install --grafana-url URL`.
package dashboards
