package graph

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/pipewatch/pipewatch/lineage"
)

func TestFoldRuns(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	tests := []struct {
		name   string
		events []lineage.Run
		want   []lineage.Run
	}{
		{"retry then success, shuffled", []lineage.Run{
			{RunID: "a", State: lineage.StateFail, Attempt: 2, StartedAt: at(3), EndedAt: at(4), Error: "x"},
			{RunID: "a", State: lineage.StateComplete, Attempt: 3, StartedAt: at(6), EndedAt: at(7), JobKey: "train"},
			{RunID: "a", State: lineage.StateStart, Attempt: 1, StartedAt: at(0)},
		}, []lineage.Run{{RunID: "a", State: lineage.StateComplete, Attempt: 3, StartedAt: at(0), EndedAt: at(7), JobKey: "train"}}},
		{"a late start changes nothing but the earliest start", []lineage.Run{
			{RunID: "b", State: lineage.StateFail, Attempt: 1, StartedAt: at(5), EndedAt: at(6), Error: "boom"},
			{RunID: "b", State: lineage.StateStart, Attempt: 1, StartedAt: at(5), ParentRunID: "p"},
		}, []lineage.Run{{RunID: "b", State: lineage.StateFail, Attempt: 1, StartedAt: at(5), EndedAt: at(6), Error: "boom", ParentRunID: "p"}}},
		{"Temporal's final word wins over a worker's later COMPLETE", []lineage.Run{
			{RunID: "e", State: lineage.StateStart, Attempt: 3, StartedAt: at(1)},
			{RunID: "e", State: lineage.StateAbort, Attempt: 1, StartedAt: at(9), EndedAt: at(9), Error: "pipeline terminated", Final: true},
			{RunID: "e", State: lineage.StateComplete, Attempt: 3, StartedAt: at(1), EndedAt: at(12)},
		}, []lineage.Run{{RunID: "e", State: lineage.StateAbort, Attempt: 3, StartedAt: at(1), EndedAt: at(9), Error: "pipeline terminated", Final: true}}},
		{"runs keep their order", []lineage.Run{
			{RunID: "c", State: lineage.StateStart, Attempt: 1}, {RunID: "d", State: lineage.StateStart, Attempt: 1},
			{RunID: "c", State: lineage.StateComplete, Attempt: 1},
		}, []lineage.Run{{RunID: "c", State: lineage.StateComplete, Attempt: 1}, {RunID: "d", State: lineage.StateStart, Attempt: 1}}},
	}
	for _, tt := range tests {
		got := foldRuns(tt.events)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

func TestRejectedTellsForGoodFromForAWhile(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"an empty label (a dataset without a kind)", &neo4j.Neo4jError{Code: "Neo.ClientError.Schema.TokenNameError"}, true},
		{"a statement error", &neo4j.Neo4jError{Code: "Neo.ClientError.Statement.TypeError"}, true},
		{"a constraint", &neo4j.Neo4jError{Code: "Neo.ClientError.Schema.ConstraintValidationFailed"}, true},
		{"a deadlock", &neo4j.Neo4jError{Code: "Neo.TransientError.Transaction.DeadlockDetected"}, false},
		{"bad credentials: the whole store, not these events", &neo4j.Neo4jError{Code: "Neo.ClientError.Security.Unauthorized"}, false},
		{"a missing database", &neo4j.Neo4jError{Code: "Neo.ClientError.Database.DatabaseNotFound"}, false},
		{"a connection", &neo4j.ConnectivityError{}, false},
		{"anything else", errors.New("EOF"), false},
	}
	for _, tt := range tests {
		if got := rejected(fmt.Errorf("lineage: write 3 run events: %w", tt.err)); got != tt.want {
			t.Errorf("%s: rejected = %v, want %v", tt.name, got, tt.want)
		}
	}
}
