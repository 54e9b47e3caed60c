package activities

import (
	"strings"
	"testing"

	"github.com/pipewatch/pipewatch/activities/cohort"
)

func TestReadCohortRefusesAmbiguousInputWithoutShowingIt(t *testing.T) {
	header := strings.Join(cohort.Columns(), ",")
	row := "P0001,71,F,12,27,0.5,0,3400,1100,0"
	tests := []struct {
		name, csv, want string
	}{
		{"a byte order mark is not part of the first column's name", "\ufeff" + header + "\n" + row + "\n", ""},
		{"a column twice", header + ",mmse\n" + row + ",29\n", `column "mmse": appears twice in the header (columns 5 and 11): which is meant?`},
		{"a number that is not: the value stays out of the error", header + "\nP0001,71,F,12,twenty-seven,0.5,0,3400,1100,0\n",
			`row 1, column "mmse": is not a number`},
		{"sex", header + "\nP0001,71,female,12,27,0.5,0,3400,1100,0\n", `row 1, column "sex": is not F or M`},
		{"diagnosis", header + "\nP0001,71,F,12,27,0.5,0,3400,1100,yes\n", `row 1, column "diagnosis": is not 0 or 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ReadCohort(strings.NewReader(tt.csv), nil)
			switch {
			case tt.want == "" && (err != nil || c.Len() != 1):
				t.Fatalf("ReadCohort = %v, want one row", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			for _, secret := range []string{"twenty-seven", "female", "yes"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows the cell %q", secret)
				}
			}
		})
	}
}
