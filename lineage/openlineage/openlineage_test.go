package openlineage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pipewatch/pipewatch/lineage"
)

const (
	workflowRunID = "0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162"
	// activityRunUUID is RunUUID(workflowRunID + "/activity/5"), computed
	// independently with Python's uuid.uuid5.
	activityRunUUID = "64351a89-6dfb-5bde-9f43-ff1220d77be0"
)

// startEventJSON is FromRun(startRun(), Options{}) as WriteJSONLines and
// HTTPTransport write it.
const startEventJSON = `{"eventType":"START","eventTime":"2025-03-04T04:06:07.123Z","run":{"runId":"0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162"},"job":{"namespace":"pipewatch","name":"TrainPipeline"},"producer":"https://github.com/pipewatch/pipewatch","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}`

func startedAt() time.Time {
	return time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))
}

func endedAt() time.Time { return time.Date(2025, 3, 4, 4, 16, 0, 5_000_000, time.UTC) }

func startRun() lineage.Run {
	return lineage.Run{
		RunID:      workflowRunID,
		JobKey:     "TrainPipeline",
		State:      lineage.StateStart,
		Attempt:    1,
		StartedAt:  startedAt(),
		WorkflowID: "train-2025-03-04",
	}
}

func TestFromRun(t *testing.T) {
	schemas := newSchemas(t)
	tests := []struct {
		name string
		run  lineage.Run
		opts Options
		want string
	}{
		{
			name: "START of a workflow run",
			run:  startRun(),
			want: startEventJSON,
		},
		{
			name: "COMPLETE of an activity with inputs, outputs and every facet",
			run: lineage.Run{
				RunID:       lineage.ActivityRunID(workflowRunID, "5"),
				JobKey:      "BuildFeatures",
				State:       lineage.StateComplete,
				Attempt:     2,
				StartedAt:   startedAt(),
				EndedAt:     endedAt(),
				WorkflowID:  "train-2025-03-04",
				ParentRunID: workflowRunID,
				Inputs: []lineage.Dataset{
					{Kind: lineage.ValidatedData, Key: "s3://lake/orders/validated", Version: "sha256:aaa"},
					{Kind: lineage.Model, Key: "models/churn", Version: "v3"},
					{Kind: lineage.DataSource, Key: "file:///data/raw.csv", Version: "sha256:bbb"},
				},
				Outputs: []lineage.Dataset{
					{Kind: lineage.FeatureSet, Key: "postgres://db:5432/features.public.churn", Version: "sha256:ccc"},
				},
			},
			opts: Options{Namespace: "ml-prod", Producer: "https://github.com/pipewatch/pipewatch/tree/v1.2.0"},
			want: `{
  "eventType": "COMPLETE",
  "eventTime": "2025-03-04T04:16:00.005Z",
  "run": {
    "runId": "64351a89-6dfb-5bde-9f43-ff1220d77be0",
    "facets": {
      "parent": {
        "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
        "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet",
        "run": {"runId": "0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162"},
        "job": {"namespace": "ml-prod", "name": "train-2025-03-04"}
      }
    }
  },
  "job": {"namespace": "ml-prod", "name": "BuildFeatures"},
  "inputs": [
    {
      "namespace": "s3://lake",
      "name": "orders/validated",
      "facets": {
        "schema": {
          "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
          "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
          "fields": [{"name": "order_id", "type": "string"}, {"name": "note"}]
        },
        "pipewatch_version": {
          "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
          "_schemaURL": "https://github.com/pipewatch/pipewatch/blob/main/lineage/openlineage/facets.json#/$defs/PipewatchVersionDatasetFacet",
          "kind": "ValidatedData",
          "version": "sha256:aaa"
        },
        "pipewatch_quality": {
          "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
          "_schemaURL": "https://github.com/pipewatch/pipewatch/blob/main/lineage/openlineage/facets.json#/$defs/PipewatchQualityDatasetFacet",
          "metrics": {"amount.null_fraction": 0.003, "amount.distinctCount": 2.5, "amount.nullCount": -1, "freshness_hours": 2, ".min": 1}
        }
      },
      "inputFacets": {
        "dataQualityMetrics": {
          "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
          "_schemaURL": "https://openlineage.io/spec/facets/1-0-3/DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet",
          "rowCount": 1000,
          "columnMetrics": {
            "amount": {"sum": 1234.5, "count": 997, "min": 0.5, "max": 99.5},
            "order_id": {"nullCount": 0, "distinctCount": 1000},
            "db.note": {"nullCount": 12}
          }
        }
      }
    },
    {
      "namespace": "ml-prod",
      "name": "models/churn",
      "facets": {
        "pipewatch_version": {
          "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
          "_schemaURL": "https://github.com/pipewatch/pipewatch/blob/main/lineage/openlineage/facets.json#/$defs/PipewatchVersionDatasetFacet",
          "kind": "Model",
          "version": "v3"
        },
        "pipewatch_model": {
          "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
          "_schemaURL": "https://github.com/pipewatch/pipewatch/blob/main/lineage/openlineage/facets.json#/$defs/PipewatchModelDatasetFacet",
          "metrics": {"auc": 0.91},
          "hyperparameters": {"max_depth": "6"}
        }
      }
    },
    {
      "namespace": "file",
      "name": "/data/raw.csv",
      "facets": {
        "pipewatch_version": {
          "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
          "_schemaURL": "https://github.com/pipewatch/pipewatch/blob/main/lineage/openlineage/facets.json#/$defs/PipewatchVersionDatasetFacet",
          "kind": "DataSource",
          "version": "sha256:bbb"
        }
      }
    }
  ],
  "outputs": [
    {
      "namespace": "postgres://db:5432",
      "name": "features.public.churn",
      "facets": {
        "schema": {
          "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
          "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
          "fields": [{"name": "order_id", "type": "string"}, {"name": "amount", "type": "double"}]
        },
        "pipewatch_version": {
          "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
          "_schemaURL": "https://github.com/pipewatch/pipewatch/blob/main/lineage/openlineage/facets.json#/$defs/PipewatchVersionDatasetFacet",
          "kind": "FeatureSet",
          "version": "sha256:ccc"
        },
        "pipewatch_quality": {
          "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
          "_schemaURL": "https://github.com/pipewatch/pipewatch/blob/main/lineage/openlineage/facets.json#/$defs/PipewatchQualityDatasetFacet",
          "metrics": {"amount.nullCount": 0}
        }
      },
      "outputFacets": {
        "outputStatistics": {
          "_producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
          "_schemaURL": "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet",
          "rowCount": 998
        }
      }
    }
  ],
  "producer": "https://github.com/pipewatch/pipewatch/tree/v1.2.0",
  "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
}`,
		},
		{
			name: "FAIL of an activity with errorMessage",
			run: lineage.Run{
				RunID:       lineage.ActivityRunID(workflowRunID, "5"),
				JobKey:      "FetchOrders",
				State:       lineage.StateFail,
				Attempt:     3,
				StartedAt:   startedAt(),
				EndedAt:     endedAt(),
				WorkflowID:  "train-2025-03-04",
				ParentRunID: workflowRunID,
				Error:       `fetch orders: dial tcp 10.0.0.7:5432: connection refused`,
			},
			want: `{
  "eventType": "FAIL",
  "eventTime": "2025-03-04T04:16:00.005Z",
  "run": {
    "runId": "64351a89-6dfb-5bde-9f43-ff1220d77be0",
    "facets": {
      "parent": {
        "_producer": "https://github.com/pipewatch/pipewatch",
        "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet",
        "run": {"runId": "0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162"},
        "job": {"namespace": "pipewatch", "name": "train-2025-03-04"}
      },
      "errorMessage": {
        "_producer": "https://github.com/pipewatch/pipewatch",
        "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
        "message": "fetch orders: dial tcp 10.0.0.7:5432: connection refused",
        "programmingLanguage": "go"
      }
    }
  },
  "job": {"namespace": "pipewatch", "name": "FetchOrders"},
  "producer": "https://github.com/pipewatch/pipewatch",
  "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
}`,
		},
		{
			name: "ABORT of a child workflow run without a workflow id",
			run: lineage.Run{
				RunID:       "5E2D7C1A-0B3F-4A6E-8D9C-7F1E2D3C4B5A",
				JobKey:      "ScoreBatch",
				State:       lineage.StateAbort,
				Attempt:     1,
				StartedAt:   startedAt(),
				EndedAt:     endedAt(),
				ParentRunID: workflowRunID,
			},
			want: `{
  "eventType": "ABORT",
  "eventTime": "2025-03-04T04:16:00.005Z",
  "run": {
    "runId": "5e2d7c1a-0b3f-4a6e-8d9c-7f1e2d3c4b5a",
    "facets": {
      "parent": {
        "_producer": "https://github.com/pipewatch/pipewatch",
        "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet",
        "run": {"runId": "0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162"},
        "job": {"namespace": "pipewatch", "name": "0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162"}
      }
    }
  },
  "job": {"namespace": "pipewatch", "name": "ScoreBatch"},
  "producer": "https://github.com/pipewatch/pipewatch",
  "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
}`,
		},
	}
	// The facets of the COMPLETE case, set here to keep the table readable.
	complete := &tests[1].run
	complete.Inputs[0] = complete.Inputs[0].With(
		lineage.Schema(lineage.Field{Name: "order_id", Type: "string"}, lineage.Field{Name: "note"}),
		lineage.Rows(1000),
		lineage.Quality(map[string]float64{
			"order_id.nullCount":     0,
			"order_id.distinctCount": 1000,
			"db.note.nullCount":      12,
			"amount.sum":             1234.5,
			"amount.count":           997,
			"amount.min":             0.5,
			"amount.max":             99.5,
			"amount.null_fraction":   0.003,
			"amount.distinctCount":   2.5,
			"amount.nullCount":       -1,
			"freshness_hours":        2,
			".min":                   1,
		}),
	)
	complete.Inputs[1] = complete.Inputs[1].With(
		lineage.Metrics(map[string]float64{"auc": 0.91}),
		lineage.Hyperparameters(map[string]string{"max_depth": "6"}),
	)
	complete.Outputs[0] = complete.Outputs[0].With(
		lineage.Schema(lineage.Field{Name: "order_id", Type: "string"}, lineage.Field{Name: "amount", Type: "double"}),
		lineage.Rows(998),
		lineage.Quality(map[string]float64{"amount.nullCount": 0}),
	)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := FromRun(tt.run, tt.opts)
			if err != nil {
				t.Fatalf("FromRun: %v", err)
			}
			got, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			assertSameJSON(t, got, []byte(tt.want))
			if err := schemas.validate(got); err != nil {
				t.Errorf("event does not validate: %v", err)
			}
		})
	}
}

// assertSameJSON fails unless got and want hold the same JSON value.
func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		var pretty bytes.Buffer
		_ = json.Indent(&pretty, got, "", "  ")
		t.Errorf("got\n%s\nwant\n%s", pretty.String(), want)
	}
}

func TestFromRunErrors(t *testing.T) {
	tests := []struct {
		name    string
		run     func(r *lineage.Run)
		opts    Options
		wantErr string
	}{
		{
			name:    "empty run",
			run:     func(r *lineage.Run) { *r = lineage.Run{} },
			wantErr: "openlineage: run \"\": runId is empty\njobKey is empty\nstate \"\" is not one of START, COMPLETE, FAIL, ABORT\nstartedAt and endedAt are both zero",
		},
		{
			name:    "blank job key",
			run:     func(r *lineage.Run) { r.JobKey = "  " },
			wantErr: `openlineage: run "0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162": jobKey is empty`,
		},
		{
			name:    "unknown state",
			run:     func(r *lineage.Run) { r.State = "DONE" },
			wantErr: `openlineage: run "0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162": state "DONE" is not one of START, COMPLETE, FAIL, ABORT`,
		},
		{
			name:    "zero times",
			run:     func(r *lineage.Run) { r.StartedAt = time.Time{} },
			wantErr: `openlineage: run "0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162": startedAt and endedAt are both zero`,
		},
		{
			name: "bad datasets",
			run: func(r *lineage.Run) {
				r.Inputs = []lineage.Dataset{{Kind: lineage.RawData, Key: "", Version: "v1"}}
				r.Outputs = []lineage.Dataset{
					{Kind: lineage.RawData, Key: "k", Version: "v1"},
					lineage.Dataset{Kind: lineage.RawData, Key: "k2", Version: "v1"}.With(lineage.Quality(map[string]float64{"x": math.NaN()})),
				}
			},
			wantErr: "openlineage: run \"0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162\": inputs[0]: lineage: dataset \"\": key is empty\n" +
				"outputs[1]: lineage: dataset \"k2\": quality \"x\" is NaN (want a finite number)",
		},
		{
			name:    "producer not a URI",
			run:     func(r *lineage.Run) {},
			opts:    Options{Producer: "pipewatch"},
			wantErr: `openlineage: run "0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162": options: producer "pipewatch" is not an absolute URI`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRun()
			tt.run(&r)
			e, err := FromRun(r, tt.opts)
			if err == nil {
				t.Fatalf("FromRun = %+v, want error %q", e, tt.wantErr)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error\n%s\nwant\n%s", err, tt.wantErr)
			}
		})
	}
}

func TestDatasetName(t *testing.T) {
	tests := []struct {
		key, wantNamespace, wantName string
	}{
		{"s3://lake/orders", "s3://lake", "orders"},
		{"gs://bucket/a/b.parquet", "gs://bucket", "a/b.parquet"},
		{"postgres://db:5432/shop.public.orders", "postgres://db:5432", "shop.public.orders"},
		{"file:///tmp/x.csv", "file", "/tmp/x.csv"},
		{"s3://lake", "default", "s3://lake"},
		{"s3://lake/", "default", "s3://lake/"},
		{"models/churn", "default", "models/churn"},
		{"orders", "default", "orders"},
		{"1s3://lake/orders", "default", "1s3://lake/orders"},
		{"://lake/orders", "default", "://lake/orders"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			ns, name := datasetName(tt.key, "default")
			if ns != tt.wantNamespace || name != tt.wantName {
				t.Errorf("datasetName(%q) = %q, %q; want %q, %q", tt.key, ns, name, tt.wantNamespace, tt.wantName)
			}
		})
	}
}

func TestUUIDv5(t *testing.T) {
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	url := [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	tests := []struct {
		name      string
		namespace [16]byte
		input     string
		want      string
	}{
		{"RFC 4122 DNS namespace", dns, "www.example.com", "2ed6657d-e927-568b-95e1-2665a8aea6a2"},
		{"pipewatch namespace is derived from its URL", url, "https://github.com/pipewatch/pipewatch", formatUUID(pipewatchNamespace())},
		{"pipewatch namespace constant", url, "https://github.com/pipewatch/pipewatch", "ef10f1b2-14d0-568a-ab84-0bff3eb1b680"},
		{"activity run id", pipewatchNamespace(), workflowRunID + "/activity/5", activityRunUUID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatUUID(uuidV5(tt.namespace, tt.input)); got != tt.want {
				t.Errorf("uuidV5(%s, %q) = %s, want %s", formatUUID(tt.namespace), tt.input, got, tt.want)
			}
		})
	}
}

func TestRunUUID(t *testing.T) {
	tests := []struct {
		runID, want string
	}{
		{workflowRunID, workflowRunID},
		{"5E2D7C1A-0B3F-4A6E-8D9C-7F1E2D3C4B5A", "5e2d7c1a-0b3f-4a6e-8d9c-7f1e2d3c4b5a"},
		{workflowRunID + "/activity/5", activityRunUUID},
		// 36 characters with hyphens in place, but not hex: hashed.
		{"0b9a6c7e-3f41-4c55-9d0a-1d2e3f40516g", "b8ba6fc6-e5a0-5de7-8fde-66d181c6cb2b"},
		{"train-run-1", "10a036df-735e-5eba-b468-a94ad9bb300c"},
	}
	for _, tt := range tests {
		t.Run(tt.runID, func(t *testing.T) {
			if got := RunUUID(tt.runID); got != tt.want {
				t.Errorf("RunUUID(%q) = %s, want %s", tt.runID, got, tt.want)
			}
		})
	}
}

func TestWriteJSONLines(t *testing.T) {
	e, err := FromRun(startRun(), Options{})
	if err != nil {
		t.Fatalf("FromRun: %v", err)
	}
	tests := []struct {
		name   string
		events []RunEvent
		want   string
	}{
		{"none", nil, ""},
		{"one", []RunEvent{e}, startEventJSON + "\n"},
		{"two", []RunEvent{e, e}, startEventJSON + "\n" + startEventJSON + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteJSONLines(&b, tt.events); err != nil {
				t.Fatalf("WriteJSONLines: %v", err)
			}
			if b.String() != tt.want {
				t.Errorf("wrote\n%q\nwant\n%q", b.String(), tt.want)
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteJSONLinesError(t *testing.T) {
	e, err := FromRun(startRun(), Options{})
	if err != nil {
		t.Fatalf("FromRun: %v", err)
	}
	err = WriteJSONLines(failingWriter{}, []RunEvent{e})
	want := "openlineage: write event 0 (run 0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162): disk full"
	if err == nil || err.Error() != want {
		t.Errorf("WriteJSONLines error = %v, want %q", err, want)
	}
}

// TestSchemaRejects shows the validation can fail: each case breaks a valid
// event in one place.
func TestSchemaRejects(t *testing.T) {
	schemas := newSchemas(t)
	failRun := lineage.Run{
		RunID: lineage.ActivityRunID(workflowRunID, "5"), JobKey: "FetchOrders", State: lineage.StateFail,
		StartedAt: startedAt(), ParentRunID: workflowRunID, WorkflowID: "train", Error: "boom",
		Inputs: []lineage.Dataset{{Kind: lineage.RawData, Key: "s3://lake/orders", Version: "v1"}},
	}
	tests := []struct {
		name      string
		breakIt   func(e map[string]any)
		wantWhere string
	}{
		{"eventType DONE", func(e map[string]any) { e["eventType"] = "DONE" }, "event"},
		{"no producer", func(e map[string]any) { delete(e, "producer") }, "event"},
		{"runId not a UUID", func(e map[string]any) { e["run"].(map[string]any)["runId"] = "run-5" }, "event"},
		{"eventTime not a date-time", func(e map[string]any) { e["eventTime"] = "yesterday" }, "event"},
		{"facet without _producer", func(e map[string]any) {
			delete(runFacet(e, "errorMessage"), "_producer")
		}, "event"},
		{"errorMessage without programmingLanguage", func(e map[string]any) {
			delete(runFacet(e, "errorMessage"), "programmingLanguage")
		}, "facet run.facets.errorMessage"},
		{"parent without job", func(e map[string]any) {
			delete(runFacet(e, "parent"), "job")
		}, "facet run.facets.parent"},
		{"parent facet under another name", func(e map[string]any) {
			facets := e["run"].(map[string]any)["facets"].(map[string]any)
			facets["ancestor"] = facets["parent"]
			delete(facets, "parent")
		}, "facet run.facets.ancestor"},
		{"pipewatch_version of an unknown kind", func(e map[string]any) {
			input := e["inputs"].([]any)[0].(map[string]any)
			input["facets"].(map[string]any)["pipewatch_version"].(map[string]any)["kind"] = "Table"
		}, "facet inputs[0].facets.pipewatch_version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := FromRun(failRun, Options{})
			if err != nil {
				t.Fatalf("FromRun: %v", err)
			}
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if err := schemas.validate(b); err != nil {
				t.Fatalf("unbroken event does not validate: %v", err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			tt.breakIt(m)
			if b, err = json.Marshal(m); err != nil {
				t.Fatalf("marshal: %v", err)
			}
			err = schemas.validate(b)
			if err == nil {
				t.Fatalf("broken event validates:\n%s", b)
			}
			if !strings.HasPrefix(err.Error(), tt.wantWhere+": ") {
				t.Errorf("error %q, want it to start with %q", err, tt.wantWhere+": ")
			}
		})
	}
}

func runFacet(e map[string]any, name string) map[string]any {
	return e["run"].(map[string]any)["facets"].(map[string]any)[name].(map[string]any)
}

// schemas validates events against the vendored OpenLineage schemas and
// facets.json.
type schemas struct {
	compiler *jsonschema.Compiler
	docs     map[string]any // schema documents by $id
}

// newSchemas loads the vendored schemas under their official $id URLs.
func newSchemas(t *testing.T) *schemas {
	t.Helper()
	files := []string{
		"testdata/spec/OpenLineage.json",
		"testdata/spec/facets/ParentRunFacet.json",
		"testdata/spec/facets/ErrorMessageRunFacet.json",
		"testdata/spec/facets/SchemaDatasetFacet.json",
		"testdata/spec/facets/DataQualityMetricsInputDatasetFacet.json",
		"testdata/spec/facets/OutputStatisticsOutputDatasetFacet.json",
		"facets.json",
	}
	s := &schemas{compiler: jsonschema.NewCompiler(), docs: map[string]any{}}
	for _, file := range files {
		f, err := os.Open(filepath.FromSlash(file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			t.Fatalf("%s has no $id", file)
		}
		s.docs[id] = doc
	}
	s.compiler.UseLoader(s)
	s.compiler.AssertFormat()
	return s
}

// Load implements jsonschema.URLLoader: only vendored documents load.
func (s *schemas) Load(url string) (any, error) {
	doc, ok := s.docs[url]
	if !ok {
		return nil, fmt.Errorf("no vendored schema has $id %s", url)
	}
	return doc, nil
}

// validate checks an event against OpenLineage.json and the event's
// schemaURL, then every facet against the definition its _schemaURL names,
// under the name its schema document gives it.
func (s *schemas) validate(event []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(event))
	if err != nil {
		return fmt.Errorf("event: %w", err)
	}
	e, ok := v.(map[string]any)
	if !ok {
		return errors.New("event: not an object")
	}
	schemaURL, _ := e["schemaURL"].(string)
	for _, loc := range []string{"https://openlineage.io/spec/2-0-2/OpenLineage.json", schemaURL} {
		if err := s.validateAt(loc, e); err != nil {
			return fmt.Errorf("event: %w", err)
		}
	}
	for path, facets := range facetMaps(e) {
		for name, f := range facets {
			if err := s.validateFacet(name, f); err != nil {
				return fmt.Errorf("facet %s.%s: %w", path, name, err)
			}
		}
	}
	return nil
}

func (s *schemas) validateAt(loc string, v any) error {
	sch, err := s.compiler.Compile(loc)
	if err != nil {
		return fmt.Errorf("compile %s: %w", loc, err)
	}
	return sch.Validate(v)
}

func (s *schemas) validateFacet(name string, f any) error {
	facet, ok := f.(map[string]any)
	if !ok {
		return errors.New("not an object")
	}
	url, _ := facet["_schemaURL"].(string)
	id, def, ok := strings.Cut(url, "#/$defs/")
	if !ok {
		return fmt.Errorf("_schemaURL %q names no $defs entry", url)
	}
	// A facet schema document maps the facet's name to its definition.
	doc, ok := s.docs[id].(map[string]any)
	if !ok {
		return fmt.Errorf("no vendored schema has $id %s", id)
	}
	props, _ := doc["properties"].(map[string]any)
	prop, _ := props[name].(map[string]any)
	if ref, _ := prop["$ref"].(string); ref != "#/$defs/"+def {
		return fmt.Errorf("%s defines no facet %q of %s", id, name, def)
	}
	return s.validateAt(url, facet)
}

// facetMaps returns the event's facet maps by their path in the event.
func facetMaps(e map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	add := func(path string, parent any, key string) {
		if p, ok := parent.(map[string]any); ok {
			if m, ok := p[key].(map[string]any); ok {
				out[path+"."+key] = m
			}
		}
	}
	add("run", e["run"], "facets")
	add("job", e["job"], "facets")
	for _, list := range []string{"inputs", "outputs"} {
		items, _ := e[list].([]any)
		for i, d := range items {
			path := fmt.Sprintf("%s[%d]", list, i)
			add(path, d, "facets")
			add(path, d, "inputFacets")
			add(path, d, "outputFacets")
		}
	}
	return out
}

func TestHTTPTransportSend(t *testing.T) {
	const apiKey = "s3cr3t-api-key"
	e, err := FromRun(startRun(), Options{})
	if err != nil {
		t.Fatalf("FromRun: %v", err)
	}
	longBody := "rejected: Bearer " + apiKey + " " + strings.Repeat("x", 300)
	tests := []struct {
		name       string
		apiKey     string
		urlSuffix  string
		status     int
		respBody   string
		wantAuth   string
		wantErrFmt string // %s is the server's URL
	}{
		{name: "200 with an API key", apiKey: apiKey, status: http.StatusOK, wantAuth: "Bearer " + apiKey},
		{name: "201 without an API key, base URL with a slash", urlSuffix: "/", status: http.StatusCreated},
		{
			name: "500 echoing the API key", apiKey: apiKey, status: http.StatusInternalServerError,
			respBody: longBody, wantAuth: "Bearer " + apiKey,
			wantErrFmt: `openlineage: send run 0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162 to %s/api/v1/lineage: status 500 Internal Server Error: body "rejected: Bearer [REDACTED] ` +
				strings.Repeat("x", 200-len("rejected: Bearer "+apiKey+" ")) + `"`,
		},
		{
			name: "400 with a short body", status: http.StatusBadRequest, respBody: "bad event\n",
			wantErrFmt: `openlineage: send run 0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162 to %s/api/v1/lineage: status 400 Bad Request: body "bad event\n"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu                              sync.Mutex
				method, path, contentType, auth string
				body                            []byte
				requests                        int
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				mu.Lock()
				requests++
				method, path, contentType, auth, body = r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), b
				mu.Unlock()
				if err != nil {
					w.WriteHeader(http.StatusTeapot)
					return
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.respBody)
			}))
			defer srv.Close()

			tr := &HTTPTransport{URL: srv.URL + tt.urlSuffix, Client: srv.Client(), APIKey: tt.apiKey}
			err := tr.Send(context.Background(), e)

			if tt.wantErrFmt == "" {
				if err != nil {
					t.Errorf("Send: %v", err)
				}
			} else {
				want := fmt.Sprintf(tt.wantErrFmt, srv.URL)
				if err == nil || err.Error() != want {
					t.Errorf("Send error\n%v\nwant\n%s", err, want)
				}
				if err != nil && strings.Contains(err.Error(), apiKey) {
					t.Errorf("Send error holds the API key: %v", err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if requests != 1 || method != http.MethodPost || path != "/api/v1/lineage" || contentType != "application/json" || auth != tt.wantAuth {
				t.Errorf("server got %d requests, last %s %s, Content-Type %q, Authorization %q; want 1, POST /api/v1/lineage, application/json, %q",
					requests, method, path, contentType, auth, tt.wantAuth)
			}
			if string(body) != startEventJSON {
				t.Errorf("server got body\n%s\nwant\n%s", body, startEventJSON)
			}
		})
	}
}

func TestHTTPTransportSendErrors(t *testing.T) {
	e, err := FromRun(startRun(), Options{})
	if err != nil {
		t.Fatalf("FromRun: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		transport *HTTPTransport
		ctx       context.Context
		wantErr   string
		wantIs    error
	}{
		{
			name:      "no URL",
			transport: &HTTPTransport{},
			ctx:       context.Background(),
			wantErr:   "openlineage: send: transport URL is empty",
		},
		{
			name:      "canceled context, credentials in the URL",
			transport: &HTTPTransport{URL: "http://user:pw@127.0.0.1:1", APIKey: "k3y-value"},
			ctx:       ctx,
			wantErr:   `openlineage: send run 0b9a6c7e-3f41-4c55-9d0a-1d2e3f405162 to http://user:xxxxx@127.0.0.1:1/api/v1/lineage: Post "http://user:***@127.0.0.1:1/api/v1/lineage": context canceled`,
			wantIs:    context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.transport.Send(tt.ctx, e)
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Send error\n%v\nwant\n%s", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Send error %v is not %v", err, tt.wantIs)
			}
		})
	}
}
