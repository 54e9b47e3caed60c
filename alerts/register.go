package alerts

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// SearchAttributeNames are the Keyword search attributes the alert
// workflow writes when Policy.SearchAttributes is on.
func SearchAttributeNames() []string {
	return []string{"AlertType", "AlertSeverity", "AlertState", "PipelineName"}
}

// Register registers on w what alerts need: the alert workflow, the
// notification, audit and history activities of ns, and the local activity that raises alerts
// from workflow code through r, and the test alert's workflow and activity
// (pipewatch alerts test). The workflow counts into ns.Metrics.
func Register(w worker.Registry, r *Raiser, ns *Notifiers) {
	w.RegisterWorkflowWithOptions(WorkflowWithMetrics(ns.Metrics), workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterActivityWithOptions(ns.Notify, activity.RegisterOptions{Name: NotifyActivityName})
	w.RegisterActivityWithOptions(ns.AuditAction, activity.RegisterOptions{Name: AuditActivityName})
	w.RegisterActivityWithOptions(ns.RecordHistory, activity.RegisterOptions{Name: HistoryActivityName})
	w.RegisterActivityWithOptions(r.FireActivity, activity.RegisterOptions{Name: FireActivityName})
	w.RegisterWorkflowWithOptions(TestWorkflow, workflow.RegisterOptions{Name: TestWorkflowName})
	w.RegisterActivityWithOptions(r.RaiseTestActivity, activity.RegisterOptions{Name: TestActivityName})
}
