package interceptors

import (
	"slices"

	"github.com/pipewatch/pipewatch/alerts"
)

// SentinelWorkflowName is the sentinel's workflow type (sentinel.WorkflowName,
// which a test there keeps equal): the interceptor cannot import the
// sentinel, which runs on the same workers.
const SentinelWorkflowName = "pipewatch.Sentinel"

// OwnWorkflow tells pipewatch's own machinery, the alert workflows (with
// the test alert's) and the sentinel, from a user's pipelines: the interceptor passes it through
// unobserved, so it never counts as a pipeline or step in metrics, logs or
// lineage (it has metrics of its own).
func OwnWorkflow(workflowType string) bool {
	return workflowType == SentinelWorkflowName || slices.Contains(alerts.OwnWorkflowTypes(), workflowType)
}

// ownStep tells the alert local activity that raises a pipeline's
// workflow_failure alert: part of pipewatch, not a step of the pipeline.
func ownStep(step string) bool { return step == alerts.FireActivityName }
