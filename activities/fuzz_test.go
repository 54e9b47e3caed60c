package activities

import (
	"errors"
	"strings"
	"testing"

	"github.com/pipewatch/pipewatch/activities/cohort"
)

// FuzzReadCohort: any CSV is read or refused with a SchemaError naming
// where, never a panic; a cohort read has every column the same length;
// an error never shows a cell of the file.
func FuzzReadCohort(f *testing.F) {
	header := strings.Join(cohort.Columns(), ",")
	f.Add(header + "\nP0001,71,F,12,27,0.5,0,3400,1100,0\n")
	f.Add("\ufeff" + header + ",mmse\n")
	f.Add("a,b\n\"unterminated\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, csv string) {
		c, err := ReadCohort(strings.NewReader(csv), nil)
		if err != nil {
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a SchemaError", err)
			}
			if se.Row > 0 && se.Column != "*" {
				if cell := cellAt(csv, se.Row, se.Column); len(cell) > 3 && strings.Contains(err.Error(), cell) {
					t.Errorf("error %q shows the cell %q", err, cell)
				}
			}
			return
		}
		n := c.Len()
		if len(c.Female) != n || len(c.Diagnosis) != n {
			t.Fatalf("ragged cohort: %d ids, %d sexes, %d diagnoses", n, len(c.Female), len(c.Diagnosis))
		}
		for name, col := range c.Numeric {
			if len(col) != n {
				t.Fatalf("column %s has %d values for %d rows", name, len(col), n)
			}
		}
	})
}

// cellAt finds a cell by data row and column name in simple CSV (no
// quotes); "" when it cannot tell.
func cellAt(csv string, row int, column string) string {
	lines := strings.Split(csv, "\n")
	if row >= len(lines) {
		return ""
	}
	head := strings.Split(strings.TrimPrefix(lines[0], "\ufeff"), ",")
	cells := strings.Split(lines[row], ",")
	for i, h := range head {
		if h == column && i < len(cells) {
			return cells[i]
		}
	}
	return ""
}
