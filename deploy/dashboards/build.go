//lint:file-ignore SA1019 dashboard (schema v1) is the JSON that Grafana 9-11's file provisioning and POST /api/dashboards/db take; the dashboardv2 the SDK prefers is Grafana 12's dashboard.grafana.app/v2beta1 resource.

package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Tag is on every pipewatch dashboard; the dashboards link to each other
// through it.
const Tag = "pipewatch"

// Stable uids of the six dashboards: links, bookmarks and Install's updates
// rely on them.
const (
	UIDOverview  = "pipewatch-overview"
	UIDIngestion = "pipewatch-ingestion"
	UIDTraining  = "pipewatch-training"
	UIDDrift     = "pipewatch-drift"
	UIDResources = "pipewatch-resources"
	UIDAlerts    = "pipewatch-alerts"
)

// Board is one generated dashboard.
type Board struct {
	// UID is the dashboard's stable uid; File is UID + ".json".
	UID string
	// Title is the dashboard's title.
	Title string
	// Dashboard is the dashboard as the SDK models it.
	Dashboard dashboard.Dashboard
}

// File is the name of the board's JSON file.
func (b Board) File() string { return b.UID + ".json" }

// JSON is the board as committed: indented by two spaces, with a final
// newline. The same dashboards always give the same bytes.
func (b Board) JSON() ([]byte, error) {
	out, err := json.MarshalIndent(b.Dashboard, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("dashboard %s: encode: %w", b.UID, err)
	}
	return append(out, '\n'), nil
}

// All builds the six dashboards, Overview first.
func All() ([]Board, error) {
	defs := []struct {
		uid, title string
		build      func(*dashboard.DashboardBuilder) *dashboard.DashboardBuilder
	}{
		{UIDOverview, "pipewatch / ML Pipeline Overview", overview},
		{UIDIngestion, "pipewatch / Data Ingestion", ingestion},
		{UIDTraining, "pipewatch / Training", training},
		{UIDDrift, "pipewatch / Data Drift", drift},
		{UIDResources, "pipewatch / Resource Monitoring", resources},
		{UIDAlerts, "pipewatch / Alerts", alertsBoard},
	}
	out := make([]Board, 0, len(defs))
	for _, d := range defs {
		b := dashboard.NewDashboardBuilder(d.title).
			Uid(d.uid).
			Tags([]string{Tag}).
			Editable().
			Timezone(common.TimeZoneUtc).
			Refresh("30s").
			Time("now-6h", "now").
			Tooltip(dashboard.DashboardCursorSyncCrosshair).
			Link(dashboard.NewDashboardLinkBuilder("pipewatch").
				Type(dashboard.DashboardLinkTypeDashboards).
				Tags([]string{Tag}).
				AsDropdown(false).
				IncludeVars(true).
				KeepTime(true).
				TargetBlank(false).
				Icon("external link").
				Tooltip("").
				Url("")).
			WithVariable(datasourceVariable())
		built, err := d.build(b).Build()
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", d.uid, err)
		}
		numberPanels(&built)
		out = append(out, Board{UID: d.uid, Title: d.title, Dashboard: built})
	}
	return out, nil
}

// numberPanels gives the panels ids 1, 2, … in order, so that the JSON is
// stable and Grafana keeps them across updates.
func numberPanels(d *dashboard.Dashboard) {
	var id uint32
	for _, p := range d.Panels {
		id++
		switch {
		case p.Panel != nil:
			p.Panel.Id = cog.ToPtr(id)
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		}
	}
}

// Export writes every board's JSON into dir (made if missing) and returns
// the files written.
func Export(dir string) ([]string, error) {
	boards, err := All()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export dashboards: %w", err)
	}
	var files []string
	for _, b := range boards {
		data, err := b.JSON()
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, b.File())
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("export dashboard %s: %w", b.UID, err)
		}
		files = append(files, path)
	}
	return files, nil
}

// ErrStale reports committed dashboard JSON that differs from the code.
var ErrStale = errors.New("dashboard JSON differs from the code")

// Check compares the JSON files in dir with the boards, byte for byte.
func Check(dir string) error {
	boards, err := All()
	if err != nil {
		return err
	}
	for _, b := range boards {
		want, err := b.JSON()
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(dir, b.File()))
		if err != nil {
			return fmt.Errorf("dashboard %s: %w", b.UID, err)
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%s: %w", filepath.Join(dir, b.File()), ErrStale)
		}
	}
	return nil
}
