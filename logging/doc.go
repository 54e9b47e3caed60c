// Package logging sets up pipewatch's two logs: the main log and the audit
// log, both in Options.Dir, both stamped by an injectable Clock.
//
// The main log (pipewatch.log) holds the lifecycle of every workflow and
// step as JSON lines with ts (ISO 8601, UTC, milliseconds), level, caller,
// msg and the caller's fields, named by the Field constants (workflow_id,
// run_id, step, ...). The same lines go human-readable to Options.Console
// (stderr by default). NewTemporalLogger makes it the Temporal SDK's logger.
//
// The audit log (audit.log) is a separate file for data access, model
// deployment, alert acknowledgement and configuration changes, written with
// Audit.Record. Each record carries seq, prev_hash and hash, the SHA-256 of
// prev_hash and the record, so an edited, inserted, removed or reordered
// line breaks the chain; VerifyAudit names the first bad line. Reopening
// the log continues the chain.
//
// Both files rotate at UTC midnight and before they would pass
// Options.MaxSizeBytes (100 MiB). A rotated file is renamed
// <base>-<stamp>.log, for example pipewatch-2026-11-27T00-00-00.000.log:
// the stamp, UTC, is when the file was closed (the midnight ending its day,
// for a daily rotation). Retention runs at open and after every rotation
// and goes by that stamp, never by mtime: main log files are removed 90
// days after it and audit files 7 years after it (both configurable). Each
// log only ever removes its own rotated files, so the main log's cleanup
// cannot reach an audit file.
package logging
