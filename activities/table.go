package activities

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pipewatch/pipewatch/activities/cohort"
)

// Cohort is a clinical-cohort batch in memory: ids, sex, numeric columns
// (NaN where missing) and the diagnosis.
type Cohort struct {
	IDs       []string
	Female    []bool
	Numeric   map[string][]float64
	Diagnosis []float64
}

// NumericColumns are the cohort's numeric features, in order.
func NumericColumns() []string {
	return []string{"age", "education_years", "mmse", "cdr", "apoe4_carrier", "hippocampal_volume_mm3", "whole_brain_volume_cm3"}
}

// SchemaError is bad input: a missing column, a value that is not a
// number, an empty file. It names where, never the value: the cells are
// patient data, and the error goes to Temporal's history, logs and alert
// emails.
type SchemaError struct {
	Column string
	Row    int // 1-based data row; 0 for the header
	Reason string
}

func (e *SchemaError) Error() string {
	switch {
	case e.Column == "" && e.Row == 0:
		return e.Reason
	case e.Row == 0:
		return fmt.Sprintf("column %q: %s", e.Column, e.Reason)
	}
	return fmt.Sprintf("row %d, column %q: %s", e.Row, e.Column, e.Reason)
}

// ReadCohort parses a cohort CSV, checking its schema: every column of
// cohort.Columns present (others ignored), numbers where numbers belong,
// sex F or M, diagnosis 0 or 1. Missing values are empty cells. It returns
// the first problem as a *SchemaError.
func ReadCohort(r io.Reader, onRow func(n int)) (*Cohort, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &SchemaError{Reason: "the file is empty (no header, no rows)"}
	}
	if err != nil {
		return nil, &SchemaError{Reason: "header: " + err.Error()}
	}
	// A file saved by Excel starts with a byte order mark: not part of
	// the first column's name.
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	col := map[string]int{}
	for i, h := range header {
		if j, dup := col[h]; dup && h != "" {
			return nil, &SchemaError{Column: h, Reason: fmt.Sprintf("appears twice in the header (columns %d and %d): which is meant?", j+1, i+1)}
		}
		col[h] = i
	}
	for _, c := range cohort.Columns() {
		if _, ok := col[c]; !ok {
			return nil, &SchemaError{Column: c, Reason: "missing from the header"}
		}
	}
	c := &Cohort{Numeric: map[string][]float64{}}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &SchemaError{Row: row, Column: "*", Reason: err.Error()}
		}
		c.IDs = append(c.IDs, rec[col["patient_id"]])
		switch sex := rec[col["sex"]]; sex {
		case "F", "M":
			c.Female = append(c.Female, sex == "F")
		default:
			return nil, &SchemaError{Row: row, Column: "sex", Reason: "is not F or M"}
		}
		for _, name := range NumericColumns() {
			cell := rec[col[name]]
			v := math.NaN()
			if cell != "" {
				if v, err = strconv.ParseFloat(cell, 64); err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
					return nil, &SchemaError{Row: row, Column: name, Reason: "is not a number"}
				}
			}
			c.Numeric[name] = append(c.Numeric[name], v)
		}
		d := rec[col["diagnosis"]]
		if d != "0" && d != "1" {
			return nil, &SchemaError{Row: row, Column: "diagnosis", Reason: "is not 0 or 1"}
		}
		c.Diagnosis = append(c.Diagnosis, float64(d[0]-'0'))
		if onRow != nil {
			onRow(row)
		}
	}
	if len(c.IDs) == 0 {
		return nil, &SchemaError{Reason: "the file has a header but no rows"}
	}
	return c, nil
}

// Len is the number of patients.
func (c *Cohort) Len() int { return len(c.IDs) }

// Write writes the cohort as CSV in cohort.Columns order.
func (c *Cohort) Write(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(cohort.Columns()); err != nil {
		return err
	}
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	for i := range c.IDs {
		sex := "M"
		if c.Female[i] {
			sex = "F"
		}
		rec := []string{c.IDs[i]}
		for _, name := range cohort.Columns()[1:] {
			switch name {
			case "sex":
				rec = append(rec, sex)
			case "diagnosis":
				rec = append(rec, f(c.Diagnosis[i]))
			default:
				rec = append(rec, f(c.Numeric[name][i]))
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// keep returns the cohort restricted to the rows keep says yes to.
func (c *Cohort) keep(keep func(i int) bool) *Cohort {
	out := &Cohort{Numeric: map[string][]float64{}}
	for i := range c.IDs {
		if !keep(i) {
			continue
		}
		out.IDs = append(out.IDs, c.IDs[i])
		out.Female = append(out.Female, c.Female[i])
		out.Diagnosis = append(out.Diagnosis, c.Diagnosis[i])
		for _, name := range NumericColumns() {
			out.Numeric[name] = append(out.Numeric[name], c.Numeric[name][i])
		}
	}
	return out
}

// present returns a column's non-missing values.
func present(xs []float64) []float64 {
	return slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
}
