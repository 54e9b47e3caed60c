// Package alerts holds pipewatch's alert model: what an alert is, how bad,
// where it came from, and its key — the stable fingerprint that gives every
// distinct alert one Temporal workflow, pipewatch-alert:<key>, whose
// cooldown merges the repeats.
//
// The AlertWorkflow, its notifiers and the trigger API build on this model.
// Every change of an alert also writes a Record of it through the history
// activity to a History (alerts/history keeps them in Neo4j), so the
// alert history outlives Temporal's retention.
package alerts
