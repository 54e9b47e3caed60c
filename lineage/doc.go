// Package lineage records where a pipeline's data came from.
//
// The model follows OpenLineage and ML Metadata: a Job is a step or pipeline
// type, a Run one execution of it, a Dataset (of a Kind: DataSource, RawData,
// ValidatedData, FeatureSet, Model, Predictions) has versions identified by
// content digests, and runs CONSUMED and PRODUCED dataset versions.
//
// Capture: an activity takes and returns Dataset values, on their own or in
// its own structs, and the pipewatch interceptor finds them; or it calls
// Input and Output. This package does not import the Neo4j driver.
//
// Between capture and the graph sits the Spool: an on-disk, bounded,
// ordered queue of checksummed records, read again after a crash until
// committed, with damaged records reported by offset and skipped. Writer
// drains it in batches into a RunWriter; package lineage/graph is the one on
// Neo4j, and answers the queries.
package lineage
