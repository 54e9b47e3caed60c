package worker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
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
		return nil, fmt.Errorf("connect to temporal at %s (namespace %q): %w", cfg.Address, cfg.Namespace, err)
	}
	return c, nil
}

func temporalTLS(cfg TemporalConfig) (*tls.Config, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load temporal client certificate %q / key %q: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		tlsCfg.Certificates = []tls.Certificate{pair}
	}
	if cfg.TLSCA != "" {
		pem, err := os.ReadFile(cfg.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("read temporal CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("temporal CA bundle %q holds no PEM certificate", cfg.TLSCA)
		}
		tlsCfg.RootCAs = pool
	}
	return tlsCfg, nil
}

// OpenNeo4j creates a driver for cfg. It does not connect: use
// CheckNeo4j to find out whether the server answers.
func OpenNeo4j(cfg Neo4jConfig) (neo4j.DriverWithContext, error) {
	auth := neo4j.NoAuth()
	if cfg.Auth == "basic" {
		auth = neo4j.BasicAuth(cfg.User, cfg.Password, "")
	}
	d, err := neo4j.NewDriverWithContext(cfg.URI, auth, func(c *config.Config) {
		c.SocketConnectTimeout = 5 * time.Second
		c.ConnectionAcquisitionTimeout = 10 * time.Second
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
		return fmt.Errorf("temporal: describe namespace %q: %w", namespace, err)
	}
	return nil
}

// CheckNeo4j runs RETURN 1 against the database.
func CheckNeo4j(ctx context.Context, d neo4j.DriverWithContext, database string) error {
	res, err := neo4j.ExecuteQuery(ctx, d, "RETURN 1 AS one", nil, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(database), neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return fmt.Errorf("neo4j: RETURN 1 on database %q: %w", database, err)
	}
	if len(res.Records) != 1 {
		return fmt.Errorf("neo4j: RETURN 1 on database %q gave %d records", database, len(res.Records))
	}
	if one, _ := res.Records[0].Get("one"); one != int64(1) {
		return fmt.Errorf("neo4j: RETURN 1 on database %q gave %v", database, one)
	}
	return nil
}
