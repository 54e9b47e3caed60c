//lint:file-ignore SA1019 dashboard (schema v1) is the JSON that Grafana 9-11's file provisioning and POST /api/dashboards/db take; the dashboardv2 the SDK prefers is Grafana 12's dashboard.grafana.app/v2beta1 resource.

package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Units, as Grafana names them.
const (
	unitSeconds = "s"
	unitBytes   = "bytes"
	unitBps     = "Bps"
	unitRatio   = "percentunit"
	unitCount   = "short"
	unitPerSec  = "ops"
	unitPerMin  = "opm"
	unitDate    = "dateTimeFromNow"
	unitBool    = "bool_yes_no"
)

// ds is the panels' data source: the dashboard's data source variable.
func ds() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

// query is one Prometheus target of a panel.
type query struct{ expr, legend string }

func q(expr, legend string) query { return query{expr: expr, legend: legend} }

func targets(qs []query) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(qs))
	for i, x := range qs {
		out = append(out, prometheus.NewDataqueryBuilder().
			Datasource(ds()).
			Expr(x.expr).
			LegendFormat(x.legend).
			RefId(string(rune('A'+i))))
	}
	return out
}

// step is one threshold: from value on, color (the first step's value is
// ignored: it is the base).
type step struct {
	value float64
	color string
}

// limits are a panel's absolute thresholds: the base color, then steps.
type limits struct {
	base  string
	steps []step
}

func thresholds(base string, steps ...step) limits { return limits{base: base, steps: steps} }

// neutral is the thresholds of a panel with no good or bad values.
func neutral() limits { return limits{base: "green"} }

func (l limits) builder() *dashboard.ThresholdsConfigBuilder {
	ts := []dashboard.Threshold{{Value: nil, Color: l.base}}
	for _, s := range l.steps {
		ts = append(ts, dashboard.Threshold{Value: cog.ToPtr(s.value), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(ts)
}

// graph is a time series panel, 12 wide and 8 high.
func graph(title, desc, unit string, th limits, qs ...query) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(ds()).
		Targets(targets(qs)).
		Unit(unit).
		Thresholds(th.builder()).
		Span(12).
		Height(8).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	if len(th.steps) > 0 {
		p = p.ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine))
	}
	return p
}

// single is a stat panel, 6 wide and 5 high, showing the last value of each
// series.
func single(title, desc, unit string, th limits, qs ...query) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(ds()).
		Targets(targets(qs)).
		Unit(unit).
		Thresholds(th.builder()).
		Span(6).
		Height(5).
		ColorMode(common.BigValueColorModeValue).
		GraphMode(common.BigValueGraphModeArea).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
}

// bars is a horizontal bar gauge, 12 wide and 8 high, one bar per series
// (the last value).
func bars(title, desc, unit string, th limits, qs ...query) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(ds()).
		Targets(targets(qs)).
		Unit(unit).
		Thresholds(th.builder()).
		Span(12).
		Height(8).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
}

// row is a section heading.
func row(title string) *dashboard.RowBuilder { return dashboard.NewRowBuilder(title) }

// datasourceVariable lets the reader pick the Prometheus to query.
func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data source").
		Type("prometheus")
}

// labelVariable is a multi-value query variable over label_values(series,
// label), with All meaning any value (.*).
func labelVariable(name, label, series string) *dashboard.QueryVariableBuilder {
	def := "label_values(" + series + ", " + name + ")"
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(ds()).
		Query(dashboard.StringOrMap{Map: map[string]any{"query": def, "refId": "PrometheusVariableQueryEditor-VariableQuery"}}).
		Definition(def).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value: dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
}

// The dashboards' variables. pipeline and step are the labels of every
// pipewatch_step_* series (workflow and activity types); model is the
// models the pipeline registered.
func pipelineVariable() *dashboard.QueryVariableBuilder {
	return labelVariable("pipeline", "Pipeline", "pipewatch_step_attempts_total")
}

func stepVariable() *dashboard.QueryVariableBuilder {
	return labelVariable("step", "Step", `pipewatch_step_attempts_total{pipeline=~"$pipeline"}`)
}

func modelVariable() *dashboard.QueryVariableBuilder {
	return labelVariable("model", "Model", "pipewatch_model_auc")
}
