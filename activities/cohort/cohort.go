// Package cohort generates the ML pipeline's reference data: a realistic,
// deterministic tabular clinical cohort (age, sex, education, cognitive
// scores, APOE4 status, brain volumes, diagnosis) with missing values and
// outliers at realistic rates, and drifted batches on demand.
package cohort

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
)

// Columns are the CSV header, in order.
func Columns() []string {
	return []string{"patient_id", "age", "sex", "education_years", "mmse", "cdr", "apoe4_carrier",
		"hippocampal_volume_mm3", "whole_brain_volume_cm3", "diagnosis"}
}

// Options shape a generated batch.
type Options struct {
	// Rows is the number of patients.
	Rows int
	// Seed makes the batch reproducible: the same seed, the same bytes.
	Seed uint64
	// Shift drifts the batch: 0 is the reference population; 1 an older,
	// more impaired one (age +6 years, MMSE −2.5, hippocampal volume −8 %,
	// more APOE4 carriers), in proportion between.
	Shift float64
	// MissingRate is the share of missing values in the columns that have
	// them (education, MMSE, CDR, volumes); zero means 3 %.
	MissingRate float64
	// OutlierRate is the share of implausible entries (typos: an extra
	// digit in a volume, age 0); zero means 0.5 %.
	OutlierRate float64
}

// Generate writes a batch as CSV with a header.
func Generate(w io.Writer, opts Options) error {
	if opts.Rows < 1 {
		return fmt.Errorf("cohort: rows %d: want at least 1", opts.Rows)
	}
	if opts.Shift < 0 || opts.Shift > 3 {
		return fmt.Errorf("cohort: shift %g: want 0 (reference) to 3", opts.Shift)
	}
	missing, outliers := opts.MissingRate, opts.OutlierRate
	if missing == 0 {
		missing = 0.03
	}
	if outliers == 0 {
		outliers = 0.005
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x70697065776174)) // "pipewat"
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns()); err != nil {
		return fmt.Errorf("cohort: %w", err)
	}
	s := opts.Shift
	f := func(v float64, decimals int) string { return strconv.FormatFloat(v, 'f', decimals, 64) }
	maybe := func(v string) string {
		if rng.Float64() < missing {
			return ""
		}
		return v
	}
	for i := range opts.Rows {
		age := clamp(rng.NormFloat64()*8+72+6*s, 50, 95)
		female := rng.Float64() < 0.56
		edu := math.Round(clamp(rng.NormFloat64()*3+14, 6, 22))
		apoe := rng.Float64() < 0.27+0.12*s
		// Latent impairment: older, APOE4 and less education raise it.
		risk := 0.09*(age-72) + 1.1*b2f(apoe) - 0.12*(edu-14) + rng.NormFloat64()*1.2 - 1.6 + 0.9*s
		dementia := rng.Float64() < 1/(1+math.Exp(-risk))
		// Scores overlap between groups, as in memory clinics: mild
		// dementia scores like mild cognitive impairment.
		mmse := 28 - 0.06*(age-72) + 0.15*(edu-14) - 2.5*s + rng.NormFloat64()*2.2
		cdr := 0.0
		if dementia {
			mmse -= 1.5 + rng.Float64()*4
			cdr = []float64{0, 0.5, 0.5, 0.5, 1, 1, 2}[rng.IntN(7)]
		} else if rng.Float64() < 0.3 {
			cdr = 0.5
		}
		mmse = math.Round(clamp(mmse, 0, 30))
		hippo := (3600 - 18*(age-72) - 350*b2f(dementia) - 90*b2f(apoe)) * (1 - 0.08*s) * (1 + rng.NormFloat64()*0.07)
		brain := (1150 - 2.8*(age-72) - 60*b2f(female) - 45*b2f(dementia)) * (1 + rng.NormFloat64()*0.04)
		ageText := f(age, 1)
		if rng.Float64() < outliers {
			ageText = "0"
		}
		hippoText := f(hippo, 0)
		if rng.Float64() < outliers {
			hippoText = f(hippo*10, 0) // a digit too many
		}
		sex := "M"
		if female {
			sex = "F"
		}
		row := []string{
			fmt.Sprintf("P%06d", i+1), ageText, sex, maybe(f(edu, 0)), maybe(f(mmse, 0)), maybe(f(cdr, 1)),
			strconv.Itoa(b2i(apoe)), maybe(hippoText), maybe(f(brain, 1)), strconv.Itoa(b2i(dementia)),
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("cohort: row %d: %w", i+1, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("cohort: %w", err)
	}
	return nil
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func b2i(b bool) int { return int(b2f(b)) }
