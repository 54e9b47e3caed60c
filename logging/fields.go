package logging

// Field names shared by every pipewatch log line, so that logs from the
// interceptor, the worker and the activities can be joined on them. Use
// them as zap field keys: zap.String(FieldWorkflowID, info.WorkflowExecution.ID).
const (
	FieldWorkflowID   = "workflow_id"   // Temporal workflow ID
	FieldRunID        = "run_id"        // Temporal run ID
	FieldActivityID   = "activity_id"   // Temporal activity ID
	FieldActivityType = "activity_type" // registered activity name
	FieldAttempt      = "attempt"       // attempt number, from 1 (zap.Int32)
	FieldTaskQueue    = "task_queue"    // Temporal task queue
	FieldPipeline     = "pipeline"      // pipeline name
	FieldStep         = "step"          // pipeline step name
	FieldDuration     = "duration"      // elapsed time (zap.Duration, written like "1.5s")
	FieldError        = "error"         // error message; zap.Error uses this key
	FieldUserID       = "user_id"       // the user behind an operation
	FieldOperation    = "operation"     // what was done, e.g. "lineage.write"
)
