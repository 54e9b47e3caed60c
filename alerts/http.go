package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// postJSON posts body as JSON to target for the channel named what. A 2xx
// answer is success; a 4xx other than 408 and 429 will not get better and
// is not retried. Errors name the target by scheme and host only: webhook
// paths and queries often carry tokens (Slack's do).
func postJSON(ctx context.Context, c *http.Client, what, target string, body any, headers map[string]string) error {
	b, err := json.Marshal(body)
	if err != nil {
		return nonRetryable(fmt.Errorf("%s: encode: %w", what, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return nonRetryable(fmt.Errorf("%s: the URL is not valid", what)) // its text may hold a token
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	host := req.URL.Scheme + "://" + req.URL.Host
	resp, err := c.Do(req)
	if err != nil {
		// The url.Error names the whole URL: keep only its cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("%s: post to %s: %w", what, host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	err = fmt.Errorf("%s: %s answered %s: %s", what, host, resp.Status, bytes.TrimSpace(snippet))
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return nonRetryable(err)
	}
	return err
}
