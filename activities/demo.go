package activities

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"go.temporal.io/sdk/activity"
)

// Registered names of the demo activities.
const (
	DemoGreetName = "pipewatch.demo.Greet"
	DemoCountName = "pipewatch.demo.Count"
)

// Demo holds the demo steps: small, but real work that pipewatch observes
// like any pipeline step (logs, metrics, lineage runs, progress).
type Demo struct{}

// GreetInput is the input of Greet.
type GreetInput struct {
	Name string
}

// Greet builds a greeting.
func (d *Demo) Greet(ctx context.Context, in GreetInput) (string, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return "", fmt.Errorf("greet: name is empty")
	}
	return "hello, " + name, nil
}

// CountProgress is Count's heartbeat: how many runes it has read.
type CountProgress struct {
	Records int
}

// Count counts the letters of a text, heartbeating its progress as records
// (pipewatch_step_records_processed_total counts them).
func (d *Demo) Count(ctx context.Context, text string) (int, error) {
	letters, read := 0, 0
	for _, r := range text {
		read++
		if unicode.IsLetter(r) {
			letters++
		}
		activity.RecordHeartbeat(ctx, CountProgress{Records: read})
	}
	return letters, nil
}
