package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/pipewatch/pipewatch/lineage"
)

// Audited events, as the audit log names them.
const (
	// AuditDataAccess is a read of a pipeline's source data.
	AuditDataAccess = "data_access"
	// AuditModelDeployment is a model's registration or promotion.
	AuditModelDeployment = "model_deployment"
)

// AuditFunc writes one audit record about the running step: event is
// AuditDataAccess or AuditModelDeployment; details say what, and carry
// the step's workflow id, run id, step and attempt. The worker writes it
// to the audit log, the user who started the run (or "pipewatch") the
// actor.
type AuditFunc func(ctx context.Context, event string, details map[string]any) error

// audit writes a record when m.Audit is set, adding the step's identity.
// A record that cannot be written fails the step (retried): an access or
// deployment the audit log does not hold must not pass silently.
func (m *ML) audit(ctx context.Context, event string, details map[string]any) error {
	if m.Audit == nil {
		return nil
	}
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		details["workflow_id"] = info.WorkflowExecution.ID
		details["run_id"] = info.WorkflowExecution.RunID
		details["step"] = info.ActivityType.Name
		details["attempt"] = info.Attempt
	}
	if err := m.Audit(ctx, event, details); err != nil {
		return fmt.Errorf("audit %s: %w", event, err)
	}
	return nil
}

// auditRead records a read of a source dataset, purpose saying why.
func (m *ML) auditRead(ctx context.Context, purpose string, d lineage.Dataset) error {
	return m.audit(ctx, AuditDataAccess, map[string]any{
		"purpose": purpose, "dataset": d.Key, "version": d.Version, "dataset_version": d.VersionID(),
	})
}
