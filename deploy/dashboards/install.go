//lint:file-ignore SA1019 dashboard (schema v1) is the JSON that Grafana 9-11's file provisioning and POST /api/dashboards/db take; the dashboardv2 the SDK prefers is Grafana 12's dashboard.grafana.app/v2beta1 resource.

package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// The Grafana HTTP API endpoints Install uses, as Grafana documents them
// (https://grafana.com/docs/grafana/latest/developers/http_api/):
//
//	GET  /api/health                    other.md: {"commit","database","version"}, no auth
//	GET  /api/folders                   folder.md: all folders the caller may see
//	POST /api/folders                   folder.md: {"uid","title"}
//	GET  /api/datasources/uid/:uid      data_source.md: 404 when missing
//	POST /api/datasources               data_source.md: {"name","type","url","access","uid",...}
//	PUT  /api/datasources/uid/:uid      data_source.md: update by uid (Grafana 9.0, PR #49396)
//	POST /api/dashboards/db             dashboard.md: {"dashboard","folderUid","overwrite","message"};
//	                                    401, 403 (access denied), 412 (version-mismatch, name-exists,
//	                                    plugin-dashboard) on failure
//
// Every call but /api/health carries "Authorization: Bearer <token>" when a
// token is given (service account tokens and API keys alike).

// MinGrafanaMajor is the oldest Grafana Install supports: the dashboards
// use time series, stat and bar gauge panels and folderUid, and data
// sources are updated by uid (PUT /api/datasources/uid/:uid, Grafana 9.0).
const MinGrafanaMajor = 9

// Defaults of InstallOptions.
const (
	DefaultFolder         = "pipewatch"
	DefaultDatasourceUID  = "pipewatch-prometheus"
	DefaultDatasourceName = "pipewatch Prometheus"
)

// ErrGrafanaTooOld is returned for a Grafana older than MinGrafanaMajor.
var ErrGrafanaTooOld = errors.New("grafana is too old")

// InstallOptions says where and what to install.
type InstallOptions struct {
	// URL is Grafana's root URL, e.g. http://127.0.0.1:3000 (with its
	// sub-path, if Grafana is served under one). Required.
	URL string
	// Token is a service account token or API key (role Editor for
	// folders and dashboards, Admin for the data source). Empty sends no
	// Authorization header. It is never put in errors or output.
	Token string
	// Folder is the title of the folder the dashboards go in; empty means
	// DefaultFolder. An existing folder with this title is reused.
	Folder string
	// DatasourceURL, when set, creates or updates a Prometheus data source
	// (uid DefaultDatasourceUID, name DefaultDatasourceName) pointing at
	// it, and the dashboards open on it. Empty leaves data sources alone:
	// the dashboards then open on Grafana's default data source.
	DatasourceURL string
	// Client is the HTTP client; nil means http.DefaultClient.
	Client *http.Client
}

// InstallReport says what Install did.
type InstallReport struct {
	// GrafanaVersion is what /api/health reported.
	GrafanaVersion string
	// FolderUID is the folder the dashboards are in; FolderCreated tells
	// whether this install made it.
	FolderUID     string
	FolderCreated bool
	// Datasource is "created", "updated" or "" (not asked for).
	Datasource string
	// Dashboards are the installed dashboards, in All's order.
	Dashboards []InstalledDashboard
}

// InstalledDashboard is one dashboard Grafana stored.
type InstalledDashboard struct {
	UID     string
	Title   string
	URL     string // Grafana's path to it, e.g. /d/pipewatch-overview/…
	Version int
}

// APIError is a Grafana API call that failed: which call, Grafana's status
// and message, and what it likely means.
type APIError struct {
	Method, Path string
	Status       int
	Message      string // Grafana's "message", when it sent one
}

func (e *APIError) Error() string {
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = "authentication failed: check the token (--token-file)"
	case http.StatusForbidden:
		hint = "permission denied: the token's role may not do this (folders and dashboards need Editor, data sources Admin)"
	case http.StatusNotFound:
		hint = "not found: is the Grafana URL right (with its sub-path, if any)?"
	case http.StatusPreconditionFailed:
		hint = "precondition failed (a version mismatch or a dashboard with the same name in the folder)"
	case http.StatusConflict:
		hint = "conflict: an object with the same name exists"
	}
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if hint != "" {
		s += ": " + hint
	}
	if e.Message != "" {
		s += fmt.Sprintf(" (grafana: %q)", e.Message)
	}
	return s
}

// Install creates or updates, in order, the folder, the Prometheus data
// source (when asked) and the six dashboards. Running it again updates
// the same objects: it creates nothing twice.
func Install(ctx context.Context, opts InstallOptions) (InstallReport, error) {
	var rep InstallReport
	if opts.URL == "" {
		return rep, errors.New("install dashboards: the Grafana URL is required")
	}
	base, err := url.Parse(strings.TrimRight(opts.URL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return rep, fmt.Errorf("install dashboards: Grafana URL %q: want http(s)://host[:port][/path]", opts.URL)
	}
	if opts.Folder == "" {
		opts.Folder = DefaultFolder
	}
	c := &client{base: base.String(), token: opts.Token, http: opts.Client}
	if c.http == nil {
		c.http = http.DefaultClient
	}

	var health struct{ Version, Database string }
	if err := c.do(ctx, http.MethodGet, "/api/health", nil, &health); err != nil {
		return rep, fmt.Errorf("grafana health check: %w", err)
	}
	rep.GrafanaVersion = health.Version
	major, err := strconv.Atoi(strings.SplitN(health.Version, ".", 2)[0])
	if err != nil {
		return rep, fmt.Errorf("grafana health check: version %q is not a version", health.Version)
	}
	if major < MinGrafanaMajor {
		return rep, fmt.Errorf("%w: %s at %s; pipewatch's dashboards need Grafana %d or later", ErrGrafanaTooOld, health.Version, opts.URL, MinGrafanaMajor)
	}

	rep.FolderUID, rep.FolderCreated, err = c.folder(ctx, opts.Folder)
	if err != nil {
		return rep, fmt.Errorf("folder %q: %w", opts.Folder, err)
	}
	if opts.DatasourceURL != "" {
		if rep.Datasource, err = c.datasource(ctx, opts.DatasourceURL); err != nil {
			return rep, fmt.Errorf("data source %q: %w", DefaultDatasourceUID, err)
		}
	}

	boards, err := All()
	if err != nil {
		return rep, err
	}
	for _, b := range boards {
		if opts.DatasourceURL != "" {
			openOn(&b.Dashboard, DefaultDatasourceUID, DefaultDatasourceName)
		}
		req := struct {
			Dashboard dashboard.Dashboard `json:"dashboard"`
			FolderUID string              `json:"folderUid"`
			Overwrite bool                `json:"overwrite"`
			Message   string              `json:"message"`
		}{b.Dashboard, rep.FolderUID, true, "pipewatch dashboards install"}
		var res struct {
			UID     string
			URL     string
			Version int
		}
		if err := c.do(ctx, http.MethodPost, "/api/dashboards/db", req, &res); err != nil {
			return rep, fmt.Errorf("dashboard %s (%s): %w", b.UID, b.Title, err)
		}
		rep.Dashboards = append(rep.Dashboards, InstalledDashboard{UID: b.UID, Title: b.Title, URL: res.URL, Version: res.Version})
	}
	return rep, nil
}

// openOn makes the dashboard's data source variable select uid.
func openOn(d *dashboard.Dashboard, uid, name string) {
	for i := range d.Templating.List {
		if v := &d.Templating.List[i]; v.Type == dashboard.VariableTypeDatasource {
			v.Current = &dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: &name},
				Value: dashboard.StringOrArrayOfString{String: &uid},
			}
		}
	}
}

// folder returns the uid of the folder titled title, making it if missing.
func (c *client) folder(ctx context.Context, title string) (string, bool, error) {
	var folders []struct{ UID, Title string }
	if err := c.do(ctx, http.MethodGet, "/api/folders?limit=1000", nil, &folders); err != nil {
		return "", false, err
	}
	for _, f := range folders {
		if f.Title == title {
			return f.UID, false, nil
		}
	}
	var made struct{ UID string }
	if err := c.do(ctx, http.MethodPost, "/api/folders", map[string]string{"uid": folderUID(title), "title": title}, &made); err != nil {
		return "", false, err
	}
	return made.UID, true, nil
}

// folderUID derives a folder uid (at most 40 characters of [a-z0-9-])
// from a title.
func folderUID(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = DefaultFolder
	}
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// datasource creates or updates the Prometheus data source at promURL.
func (c *client) datasource(ctx context.Context, promURL string) (string, error) {
	body := map[string]any{
		"uid": DefaultDatasourceUID, "name": DefaultDatasourceName, "type": "prometheus",
		"url": promURL, "access": "proxy", "basicAuth": false, "isDefault": false,
		"jsonData": map[string]any{"httpMethod": "POST"},
	}
	path := "/api/datasources/uid/" + url.PathEscape(DefaultDatasourceUID)
	err := c.do(ctx, http.MethodGet, path, nil, nil)
	var apiErr *APIError
	switch {
	case err == nil:
		if err := c.do(ctx, http.MethodPut, path, body, nil); err != nil {
			return "", err
		}
		return "updated", nil
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		if err := c.do(ctx, http.MethodPost, "/api/datasources", body, nil); err != nil {
			return "", err
		}
		return "created", nil
	default:
		return "", err
	}
}

// client calls Grafana's HTTP API.
type client struct {
	base, token string
	http        *http.Client
}

// do sends in (when not nil) as JSON and decodes the answer into out (when
// not nil). A status other than 200 is an *APIError.
func (c *client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" && path != "/api/health" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	p := strings.SplitN(path, "?", 2)[0]
	if resp.StatusCode != http.StatusOK {
		var msg struct{ Message string }
		_ = json.Unmarshal(data, &msg)
		return &APIError{Method: method, Path: p, Status: resp.StatusCode, Message: msg.Message}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode the answer: %w", method, p, err)
		}
	}
	return nil
}
