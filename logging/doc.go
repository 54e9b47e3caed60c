// Package logging sets up pipewatch's two logs.
//
// The main log (pipewatch.log) holds the lifecycle of every workflow and
// step as JSON lines, each with a UTC timestamp and its operation context
// (the field names in fields.go), and mirrors them human-readable to stderr.
// The audit log (audit.log) is a separate file and logger for data access,
// model deployment, alert acknowledgement and configuration changes; each
// record carries the SHA-256 of the one before it, so VerifyAudit finds an
// edited, inserted or deleted line.
//
// Both files rotate daily (UTC midnight) and at a size limit. Rotated files
// carry their rotation time in their name, and retention reads it from there,
// never from mtime: the main log's files are removed after 90 days, the
// audit log's after 7 years (both configurable), and one log's cleanup never
// touches the other's files. Time comes from an injectable Clock.
//
// NewTemporalLogger adapts a zap logger to the Temporal SDK's log.Logger.
package logging
