package sentinel

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pipewatch/pipewatch/alerts"
)

// Names under which the sentinel is registered and reached.
const (
	// WorkflowName is the sentinel workflow's type.
	WorkflowName = "pipewatch.Sentinel"
	// ScanActivityName is the activity that scans once.
	ScanActivityName = "pipewatch.sentinel.Scan"
	// QueryStatus answers with Status.
	QueryStatus = "pipewatch.sentinel"
	// SignalConfig hands the running sentinel a new Config; it applies
	// from the next scan.
	SignalConfig = "pipewatch.sentinel.config"
	// SignalAdopt hands the sentinel a problem a worker raised an alert
	// about (an alerts.Alert with Hold), so that it resolves the alert when
	// the problem clears, even if no scan saw it.
	SignalAdopt = "pipewatch.sentinel.adopt"
	// DefaultWorkflowID is the singleton's id: one sentinel per namespace.
	DefaultWorkflowID = "pipewatch-sentinel"
	// ResolvedBy signs the sentinel's resolutions of alerts.
	ResolvedBy = "pipewatch-sentinel"
)

// Config says what the sentinel watches and when it calls something a
// problem. It travels in the sentinel workflow's input (and SignalConfig),
// so every scan, on whichever worker it runs, applies the same settings.
// The zero value means every default.
type Config struct {
	// Namespace is the namespace watched; empty means the sentinel's own.
	Namespace string `json:"namespace,omitempty"`
	// Query narrows the pipelines watched with a visibility query
	// ("TaskQueue = 'ml'", "WorkflowType STARTS_WITH 'etl.'"); empty means
	// every workflow in the namespace. pipewatch's own workflows (alerts,
	// the sentinel) are always left out.
	Query string `json:"query,omitempty"`
	// Interval is the pause between scans. Default 10s.
	Interval time.Duration `json:"interval,omitempty"`
	// DescribeRate bounds DescribeWorkflowExecution calls per second, so a
	// scan of many open pipelines never floods the frontend. Default 50.
	DescribeRate float64 `json:"describeRate,omitempty"`
	// PageSize is the visibility page size. Default 500.
	PageSize int32 `json:"pageSize,omitempty"`
	// StepAttempts: a step with this many failed attempts and retries left
	// is a problem (retrying). Default 3.
	StepAttempts int32 `json:"stepAttempts,omitempty"`
	// FailingFor: a step failing this long, whatever its attempts, is a
	// problem (retrying); so is a workflow task failing this long
	// (stuck). Default 1m.
	FailingFor time.Duration `json:"failingFor,omitempty"`
	// NotStartedFor: a step, or a workflow task, scheduled and not picked
	// up by a worker this long is a problem (not_started). Default 1m.
	NotStartedFor time.Duration `json:"notStartedFor,omitempty"`
	// StuckAttempts: a workflow task failing this many attempts in a row
	// (a panic, nondeterminism, a bad payload) is a problem (stuck).
	// Default 3.
	StuckAttempts int32 `json:"stuckAttempts,omitempty"`
	// TerminatedSeverity is the severity of the alert about a pipeline an
	// operator terminated. Default warning.
	TerminatedSeverity alerts.Severity `json:"terminatedSeverity,omitempty"`
	// ScansPerRun continues the workflow as new after this many scans, to
	// keep its history short. Default 100.
	ScansPerRun int `json:"scansPerRun,omitempty"`
}

// Defaults of Config.
const (
	DefaultInterval      = 10 * time.Second
	DefaultDescribeRate  = 50
	DefaultPageSize      = 500
	DefaultStepAttempts  = 3
	DefaultFailingFor    = time.Minute
	DefaultNotStartedFor = time.Minute
	DefaultStuckAttempts = 3
	DefaultScansPerRun   = 100
)

// WithDefaults fills in every zero field.
func (c Config) WithDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.DescribeRate <= 0 {
		c.DescribeRate = DefaultDescribeRate
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.StepAttempts <= 0 {
		c.StepAttempts = DefaultStepAttempts
	}
	if c.FailingFor <= 0 {
		c.FailingFor = DefaultFailingFor
	}
	if c.NotStartedFor <= 0 {
		c.NotStartedFor = DefaultNotStartedFor
	}
	if c.StuckAttempts <= 0 {
		c.StuckAttempts = DefaultStuckAttempts
	}
	if c.TerminatedSeverity == "" {
		c.TerminatedSeverity = alerts.Warning
	}
	if c.ScansPerRun <= 0 {
		c.ScansPerRun = DefaultScansPerRun
	}
	return c
}

// Validate reports every bad field, naming it and its value.
func (c Config) Validate() error {
	var errs []error
	if c.Interval < 0 || (c.Interval > 0 && c.Interval < time.Second) {
		errs = append(errs, fmt.Errorf("sentinel.interval %s is below 1s", c.Interval))
	}
	if c.DescribeRate < 0 {
		errs = append(errs, fmt.Errorf("sentinel.describe_rate %g is negative", c.DescribeRate))
	}
	if c.PageSize < 0 || c.PageSize > 1000 {
		errs = append(errs, fmt.Errorf("sentinel.page_size %d is not within 1..1000", c.PageSize))
	}
	if c.StepAttempts < 0 || c.StuckAttempts < 0 {
		errs = append(errs, fmt.Errorf("sentinel.step_attempts %d and sentinel.stuck_attempts %d must not be negative", c.StepAttempts, c.StuckAttempts))
	}
	if c.StuckAttempts == 1 {
		errs = append(errs, errors.New("sentinel.stuck_attempts 1 would call every workflow task retry stuck; use 2 or more"))
	}
	if c.FailingFor < 0 || c.NotStartedFor < 0 {
		errs = append(errs, fmt.Errorf("sentinel.failing_for %s and sentinel.not_started_for %s must not be negative", c.FailingFor, c.NotStartedFor))
	}
	if s := c.TerminatedSeverity; s != "" && s.Rank() == 0 {
		errs = append(errs, fmt.Errorf("sentinel.terminated_severity %q is not one of info, warning, critical", s))
	}
	if strings.Count(c.Query, "(") != strings.Count(c.Query, ")") {
		errs = append(errs, fmt.Errorf("sentinel.query %q has unbalanced parentheses", c.Query))
	}
	return errors.Join(errs...)
}

// ownTypes are pipewatch's own workflow types, never watched.
func ownTypes() []string { return append(alerts.OwnWorkflowTypes(), WorkflowName) }

// scope is the visibility query for the watched workflows.
func (c Config) scope() string {
	own := "WorkflowType NOT IN ('" + strings.Join(ownTypes(), "', '") + "')"
	if strings.TrimSpace(c.Query) == "" {
		return own
	}
	return "(" + c.Query + ") AND " + own
}
