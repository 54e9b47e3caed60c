// Package metrics owns pipewatch's Prometheus registry.
//
// One registry carries three kinds of series, all served by the worker's
// /metrics endpoint:
//
//   - the Temporal SDK's own metrics (temporal_*), reported through tally and
//     go.temporal.io/sdk/contrib/tally, with timers as histograms whose
//     buckets reach hours, since ML steps run that long;
//   - pipewatch's metrics (pipewatch_*), defined with client_golang;
//   - the Go runtime and process collectors (go_*, process_*).
//
// New builds the registry and the tally scope; Registry.MetricsHandler is
// what the Temporal client takes; Registry.Handler serves /metrics. Close
// stops tally's reporting loop.
package metrics
