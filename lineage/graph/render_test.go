package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/lineage"
)

func sampleGraph() Graph {
	at := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	return Graph{
		Query: "upstream", Subject: "preds",
		Nodes: []Node{
			{ID: "preds@sha256:0123456789abcdef", Type: NodeDataset, Kind: lineage.Predictions, Key: "preds", Version: "sha256:0123456789abcdef", At: at},
			{ID: "wf/activity/5", Type: NodeRun, Job: "predict", State: "COMPLETE", Attempts: 3, At: at, Depth: 1},
			{ID: `model "a"@1`, Type: NodeDataset, Kind: lineage.Model, Key: `model "a"`, Version: "1", Depth: 1},
		},
		Edges: []Edge{
			{From: "wf/activity/5", To: `model "a"@1`, Type: "CONSUMED"},
			{From: "wf/activity/5", To: "preds@sha256:0123456789abcdef", Type: "PRODUCED"},
		},
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := Write(context.Background(), &b, "table", sampleGraph(), nil); err != nil {
		t.Fatal(err)
	}
	want := `DEPTH  TYPE     KIND/JOB     ID                         STATE                  AT                    READ -> WROTE
0      dataset  Predictions  preds@sha256:0123456789ab                         2026-11-26T09:30:00Z  
1      run      predict      wf/activity/5              COMPLETE (3 attempts)  2026-11-26T09:30:00Z  model "a" -> preds
1      dataset  Model        model "a"@1                                                             
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteDOTQuotes(t *testing.T) {
	dot := DOT(sampleGraph())
	for _, want := range []string{
		`"model \"a\"@1" -> "wf/activity/5";`,
		`"wf/activity/5" -> "preds@sha256:0123456789abcdef";`,
		`label="predict\nCOMPLETE · 3 attempts"`,
	} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %s:\n%s", want, dot)
		}
	}
}

func TestWriteJSONAndSVG(t *testing.T) {
	var b bytes.Buffer
	if err := Write(context.Background(), &b, "json", sampleGraph(), nil); err != nil {
		t.Fatal(err)
	}
	var back Graph
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back.Nodes) != 3 || len(back.Edges) != 2 || back.Nodes[1].Attempts != 3 {
		t.Errorf("json round trip: %v, %+v", err, back)
	}
	b.Reset()
	err := Write(context.Background(), &b, "svg", sampleGraph(), nil)
	if _, lookErr := exec.LookPath("dot"); lookErr != nil {
		if err != ErrNoGraphviz {
			t.Errorf("svg without dot: %v, want ErrNoGraphviz", err)
		}
		return
	}
	if err != nil || !strings.Contains(b.String(), "<svg") || !strings.Contains(b.String(), "predict") {
		t.Errorf("svg: %v, %.200s", err, b.String())
	}
	if err := Write(context.Background(), &b, "png", sampleGraph(), nil); err == nil || err.Error() != `lineage: format "png" is not one of table, json, dot, svg` {
		t.Errorf("png: %v", err)
	}
}
