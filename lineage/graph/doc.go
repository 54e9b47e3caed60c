// Package graph keeps the lineage graph in Neo4j and queries it.
//
// Nodes: (:Job {key}), (:Run {runId}), (:Dataset:<Kind> {key}),
// (:DatasetVersion {id: key@version}). Edges: (:Run)-[:INSTANCE_OF]->(:Job),
// (:Run)-[:CHILD_OF]->(:Run), (:Dataset)-[:HAS_VERSION]->(:DatasetVersion),
// (:Run)-[:CONSUMED|PRODUCED]->(:DatasetVersion) and the shortcut
// (:DatasetVersion)-[:DERIVED_FROM {runId, at}]->(:DatasetVersion).
//
// Writes are idempotent: every node and edge is MERGEd on a unique key,
// backed by constraints that EnsureSchema creates with IF NOT EXISTS; values
// always travel as query parameters, never inside the Cypher text. A run's
// state only moves forward by attempt.
//
// Stats aggregates the runs' outcomes and durations by pipeline and step.
//
// Traverse walks DERIVED_FROM breadth first, two layers an indexed query,
// so its cost follows the size of the answer, not of the graph; Path one
// layer a query, stopping at its target. Neither uses a variable-length or
// shortest-path pattern: on a graph with cycles those enumerate paths, and
// their cost grows exponentially with the depth.
package graph
