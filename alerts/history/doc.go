// Package history keeps pipewatch's alert history in Neo4j, beside the
// lineage graph, where it outlives Temporal's retention of the alert
// workflows.
//
// Each alert is one (:Alert {id}) node, its id being its key and the time
// it opened (alerts.RecordID), with its type, severity, state, summary,
// labels, firstFiredAt, lastFiredAt, fires, and ackedAt, silencedUntil,
// resolvedAt, closedAt as they happen. It is linked to what it is about,
// with the lineage model's labels: (:Alert)-[:ABOUT]->(:Run) for the run
// that raised it (a step's run, or the workflow run), and
// (:Alert)-[:ABOUT]->(:Job) for its pipeline.
//
// Writes are idempotent and ordered: every record is MERGEd on the
// alert's id, and only a record of a higher revision than the node's
// changes its state; a resolved alert stays resolved.
package history
