package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Type says what kind of problem an alert reports.
type Type string

// The alert types.
const (
	StepFailure       Type = "step_failure"
	WorkflowFailure   Type = "workflow_failure"
	ResourceThreshold Type = "resource_threshold"
	DataQuality       Type = "data_quality"
	ModelDegradation  Type = "model_degradation"
	DataDrift         Type = "data_drift"
	Custom            Type = "custom"
)

// Types lists every alert type.
func Types() []Type {
	return []Type{StepFailure, WorkflowFailure, ResourceThreshold, DataQuality, ModelDegradation, DataDrift, Custom}
}

// Severity says how bad an alert is; severities are ordered.
type Severity string

// The severities, least severe first.
const (
	Info     Severity = "info"
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

// Rank orders severities: info 1, warning 2, critical 3; 0 for anything else.
func (s Severity) Rank() int {
	switch s {
	case Info:
		return 1
	case Warning:
		return 2
	case Critical:
		return 3
	}
	return 0
}

// Source is where an alert was raised.
type Source struct {
	WorkflowID string `json:"workflowId,omitempty"`
	RunID      string `json:"runId,omitempty"`
	ActivityID string `json:"activityId,omitempty"`
	Attempt    int32  `json:"attempt,omitempty"`
}

// Alert is one occurrence of a problem.
type Alert struct {
	Type     Type     `json:"type"`
	Severity Severity `json:"severity"`
	// Labels identify the problem (pipeline, step, feature, …): together with
	// Type they make the Key, so repeats of one problem share an alert.
	Labels  map[string]string `json:"labels,omitempty"`
	Summary string            `json:"summary"`
	Details string            `json:"details,omitempty"`
	// Source is where this occurrence came from; it is not part of the key.
	Source Source    `json:"source"`
	At     time.Time `json:"at"`
	// Occurrence identifies this occurrence; Raise sets a random one when
	// it is empty. Raisers that can see one fact from two places (a worker
	// and the sentinel) give it the same id, so the alert counts it once.
	Occurrence string `json:"occurrence,omitempty"`
	// Hold says the problem is a condition that lasts until it clears (a
	// step retrying, a pipeline stuck): the alert then stays open through
	// quiet cooldowns until it is resolved, by whoever watches the
	// condition (the sentinel resolves it when the condition clears) or by
	// an operator.
	Hold bool `json:"hold,omitempty"`
}

// WorkflowIDPrefix starts the id of every alert workflow.
const WorkflowIDPrefix = "pipewatch-alert:"

// Key is the alert's stable fingerprint: the first 16 hex digits of the
// SHA-256 of its type and labels in key order. Label order, Source, Summary
// and time do not change it.
func (a Alert) Key() string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	h.Write([]byte(a.Type))
	for _, k := range keys {
		// Lengths first, so no choice of label text can collide with another.
		fmt.Fprintf(h, "\x00%d:%s%d:%s", len(k), k, len(a.Labels[k]), a.Labels[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// WorkflowID is the id of the workflow that handles this alert's key.
func (a Alert) WorkflowID() string { return WorkflowIDPrefix + a.Key() }

// Validate reports every problem with the alert, naming the field.
func (a Alert) Validate() error {
	var errs []error
	if !slices.Contains(Types(), a.Type) {
		names := make([]string, 0, len(Types()))
		for _, t := range Types() {
			names = append(names, string(t))
		}
		errs = append(errs, fmt.Errorf("alert: type %q is not one of %s", a.Type, strings.Join(names, ", ")))
	}
	if a.Severity.Rank() == 0 {
		errs = append(errs, fmt.Errorf("alert: severity %q is not one of info, warning, critical", a.Severity))
	}
	if strings.TrimSpace(a.Summary) == "" {
		errs = append(errs, errors.New("alert: summary must not be empty"))
	}
	for k := range a.Labels {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, errors.New("alert: a label has an empty name"))
		}
	}
	return errors.Join(errs...)
}

// The problem label of alerts about conditions (Alert.Hold) and endings
// the sentinel sees: it keeps them apart from the alerts of a step's or a
// pipeline's final failure, which have none.
const (
	// ProblemRetrying: a step failing with retries left.
	ProblemRetrying = "retrying"
	// ProblemNotStarted: a step (or workflow task) no worker picked up.
	ProblemNotStarted = "not_started"
	// ProblemStuck: a pipeline whose workflow task fails again and again.
	ProblemStuck = "stuck"
	// ProblemTerminated: a pipeline terminated by an operator.
	ProblemTerminated = "terminated"
	// ProblemTimedOut: a pipeline past its execution or run timeout.
	ProblemTimedOut = "timed_out"
)

// Occurrence ids of facts two raisers can see (a worker and the sentinel):
// both build the same id, and the alert workflow counts it once.

// StepRetryingOccurrence names the failure of one attempt of an activity.
func StepRetryingOccurrence(runID, activityID string, attempt int32) string {
	return fmt.Sprintf("step_retrying:%s/%s/%d", runID, activityID, attempt)
}

// StepFailedOccurrence names an activity's final failure.
func StepFailedOccurrence(runID, activityID string) string {
	return "step_failed:" + runID + "/" + activityID
}

// WorkflowFailedOccurrence names a workflow run's failure.
func WorkflowFailedOccurrence(runID string) string { return "workflow_failed:" + runID }
