package logging

// Field names shared by every pipewatch log line, so that logs from the
// interceptor, the worker and the activities can be joined on them.
const (
	FieldWorkflowID   = "workflow_id"
	FieldRunID        = "run_id"
	FieldActivityID   = "activity_id"
	FieldActivityType = "activity_type"
	FieldAttempt      = "attempt"
	FieldTaskQueue    = "task_queue"
	FieldPipeline     = "pipeline"
	FieldStep         = "step"
	FieldDuration     = "duration"
	FieldError        = "error"
	FieldUserID       = "user_id"
	FieldOperation    = "operation"
)
