package activities

import (
	"context"
	"strings"

	"go.temporal.io/sdk/activity"
)

// The data-quality checks the ML steps count in
// pipewatch_data_quality_checks_total (check label).
const (
	// CheckSchema: the source has the cohort's columns and numeric values
	// (Ingest).
	CheckSchema = "schema"
	// CheckMissingValues: no column misses more than MaxMissing of its
	// values (Validate; a failure fails the step).
	CheckMissingValues = "missing_values"
	// CheckValueRanges: every value is in its plausible range (Validate;
	// rows outside are dropped).
	CheckValueRanges = "value_ranges"
	// CheckUniqueIDs: no patient id repeats (Validate; repeats are
	// dropped).
	CheckUniqueIDs = "unique_ids"
)

// The reasons Validate rejects a row for, in
// pipewatch_data_rows_rejected_total (reason label): the first rule the
// row breaks, in the order below.
const (
	// ReasonDuplicateID: the row repeats an earlier row's patient id.
	ReasonDuplicateID = "duplicate_id"
	// ReasonOutOfRange is followed by the numeric column (see
	// NumericColumns) whose value is outside its plausible range, e.g.
	// "out_of_range_age".
	ReasonOutOfRange = "out_of_range_"
)

// RejectReasons are every reason Validate may count: a closed set.
func RejectReasons() []string {
	rs := []string{ReasonDuplicateID}
	for _, name := range NumericColumns() {
		rs = append(rs, ReasonOutOfRange+name)
	}
	return rs
}

// stepLabels are the pipeline and step labels of the running activity: the
// workflow and activity types ("none" and step outside an activity).
func stepLabels(ctx context.Context, step string) (pipeline, stepName string) {
	if !activity.IsActivity(ctx) {
		return "none", step
	}
	info := activity.GetInfo(ctx)
	return info.WorkflowType.Name, info.ActivityType.Name
}

// check counts one data-quality check.
func (m *ML) check(ctx context.Context, check string, ok bool) {
	if m.Data == nil {
		return
	}
	pipeline, _ := stepLabels(ctx, "")
	m.Data.Check(pipeline, check, ok)
}

// validated counts Validate's rows and checks: rejected holds the rows
// dropped, by reason.
func (m *ML) validated(ctx context.Context, out ValidateOutput, rejected map[string]int) {
	if m.Data == nil {
		return
	}
	pipeline, step := stepLabels(ctx, ValidateName)
	m.Data.Rows.WithLabelValues(pipeline, step, "accepted").Add(float64(out.Rows))
	m.Data.Rows.WithLabelValues(pipeline, step, "rejected").Add(float64(out.Dropped + out.Duplicates))
	for _, reason := range RejectReasons() { // every reason, zeros too: rates show none
		m.Data.Rejected.WithLabelValues(pipeline, step, reason).Add(float64(rejected[reason]))
	}
	m.Data.Check(pipeline, CheckMissingValues, true)
	m.Data.Check(pipeline, CheckValueRanges, out.Dropped == 0)
	m.Data.Check(pipeline, CheckUniqueIDs, out.Duplicates == 0)
}

// ShortVersion is an artifact version as lineage shows it: the digest's
// algorithm and its first 12 hex digits ("sha256:1a2b3c4d5e6f"); a version
// that is no digest as it is.
func ShortVersion(version string) string {
	if i := strings.IndexByte(version, ':'); i >= 0 && len(version) > i+13 {
		return version[:i+13]
	}
	return version
}
