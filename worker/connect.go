package worker

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j/config"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/interceptors"
)

// DialTemporal connects to the Temporal frontend described by cfg. logger and
// metrics may be nil.
func DialTemporal(ctx context.Context, cfg TemporalConfig, logger sdklog.Logger, metrics client.MetricsHandler) (client.Client, error) {
	opts := client.Options{
		HostPort:           cfg.Address,
		Namespace:          cfg.Namespace,
		Logger:             logger,
		MetricsHandler:     metrics,
		ContextPropagators: []workflow.ContextPropagator{interceptors.UserIDPropagator()},
	}
	if cfg.TLSEnabled() {
		tlsCfg, err := temporalTLS(cfg)
		if err != nil {
			return nil, err
		}
		opts.ConnectionOptions.TLS = tlsCfg
	}
	if cfg.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey)
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		hint := ""
		if msg := err.Error(); cfg.TLSEnabled() && cfg.TLSCert == "" &&
			(strings.Contains(msg, "certificate required") || strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset")) {
			// Under TLS 1.3 a server that wants a client certificate tells
			// so after the handshake: the client may see only a closed
			// connection.
			hint = " (the server may want a client certificate: set temporal.tls_cert and temporal.tls_key)"
		}
		return nil, fmt.Errorf("connect to temporal at %s (namespace %q): %w%s", cfg.Address, cfg.Namespace, err, hint)
	}
	return c, nil
}

// temporalTLS is the TLS configuration of the Temporal connection.
func temporalTLS(cfg TemporalConfig) (*tls.Config, error) {
	return tlsFiles{
		certKey: "temporal.tls_cert", cert: cfg.TLSCert,
		keyKey: "temporal.tls_key", key: cfg.TLSKey,
		caKey: "temporal.tls_ca", ca: cfg.TLSCA,
	}.load(time.Now())
}

// checkTLSFiles loads the Temporal and Neo4j TLS files cfg names.
func checkTLSFiles(cfg Config) error {
	if cfg.Temporal.TLSEnabled() {
		if _, err := temporalTLS(cfg.Temporal); err != nil {
			return err
		}
	}
	if cfg.Neo4j.TLSCA != "" {
		if _, err := neo4jTLS(cfg.Neo4j); err != nil {
			return err
		}
	}
	return nil
}

// neo4jTLS is the TLS configuration of the Neo4j driver: the CA bundle.
func neo4jTLS(cfg Neo4jConfig) (*tls.Config, error) {
	return tlsFiles{caKey: "neo4j.tls_ca", ca: cfg.TLSCA}.load(time.Now())
}

// OpenNeo4j creates a driver for cfg. It does not connect: use
// CheckNeo4j to find out whether the server answers. A bad neo4j.tls_ca
// fails here, naming the file and the reason.
func OpenNeo4j(cfg Neo4jConfig) (neo4j.DriverWithContext, error) {
	auth := neo4j.NoAuth()
	if cfg.Auth == "basic" {
		auth = neo4j.BasicAuth(cfg.User, cfg.Password, "")
	}
	var tlsCfg *tls.Config
	if cfg.TLSCA != "" {
		var err error
		if tlsCfg, err = neo4jTLS(cfg); err != nil {
			return nil, err
		}
	}
	d, err := neo4j.NewDriverWithContext(cfg.URI, auth, func(c *config.Config) {
		c.SocketConnectTimeout = 5 * time.Second
		c.ConnectionAcquisitionTimeout = 10 * time.Second
		// The driver sets ServerName from the URI's host, and checks or
		// skips the certificate as the scheme says (+s, +ssc).
		c.TlsConfig = tlsCfg
	})
	if err != nil {
		return nil, fmt.Errorf("neo4j driver for %s: %w", cfg.URI, err)
	}
	return d, nil
}

// MissingSearchAttributes lists the search attributes pipewatch writes that
// the namespace lacks as Keyword.
func MissingSearchAttributes(ctx context.Context, c client.Client, namespace string) ([]string, error) {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("temporal: list search attributes of %q: %w", namespace, err)
	}
	var missing []string
	names := append(interceptors.SearchAttributeNames(), alerts.SearchAttributeNames()...)
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if resp.GetCustomAttributes()[name] != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			missing = append(missing, name)
		}
	}
	return missing, nil
}

// CheckTemporal asks the frontend to describe the namespace: it proves the
// server answers and the namespace exists.
func CheckTemporal(ctx context.Context, c client.Client, namespace string) error {
	if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace}); err != nil {
		return fmt.Errorf("temporal: describe namespace %q: %w%s", namespace, err, tlsHint(err, "temporal.tls_ca", "temporal.tls_ca or temporal.tls_cert (TLS on)"))
	}
	return nil
}

// tlsHint says what to set when err looks like a TLS mismatch: the CA
// setting for a certificate no trusted CA signed, the TLS form for a
// connection a TLS-only server closed. "" otherwise.
func tlsHint(err error, caKey, tlsForm string) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unknown authority"):
		return " (set " + caKey + " to the CA bundle that signed the server's certificate)"
	case strings.HasSuffix(msg, "EOF") || strings.Contains(msg, "connection reset by peer"):
		return " (the server closed the connection: if it requires TLS, use " + tlsForm + ")"
	}
	return ""
}

// CheckNeo4j runs RETURN 1 against the database.
func CheckNeo4j(ctx context.Context, d neo4j.DriverWithContext, database string) error {
	res, err := neo4j.ExecuteQuery(ctx, d, "RETURN 1 AS one", nil, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(database), neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return fmt.Errorf("neo4j: RETURN 1 on database %q: %w%s", database, err, tlsHint(err, "neo4j.tls_ca", "bolt+s:// or neo4j+s://"))
	}
	if len(res.Records) != 1 {
		return fmt.Errorf("neo4j: RETURN 1 on database %q gave %d records", database, len(res.Records))
	}
	if one, _ := res.Records[0].Get("one"); one != int64(1) {
		return fmt.Errorf("neo4j: RETURN 1 on database %q gave %v", database, one)
	}
	return nil
}
