// Package lineage records where a pipeline's data came from, in Neo4j.
//
// The graph follows OpenLineage and ML Metadata: a (:Job) is a step or
// pipeline type, a (:Run) one execution of it, linked by INSTANCE_OF. Writes
// are idempotent: every node and edge is MERGEd on a unique key, backed by
// constraints that EnsureSchema creates with IF NOT EXISTS, and values always
// travel as query parameters, never inside the Cypher text.
//
// Between capture and Neo4j sits the Spool: an on-disk, bounded, ordered
// queue of checksummed records, read again after a crash until committed,
// with damaged records reported by offset and skipped. This slice stores
// runs and jobs; datasets, versions and the batched writer build on it.
package lineage
