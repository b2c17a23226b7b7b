// Package probe is the kit's client of the SUT's probe API (docs/sut-contract.md §3).
package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/konform/konform/contract"
)

// Client reads what the SUT stored.
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

// New returns a client for the SUT whose probe API is served below baseURL.
func New(baseURL string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// Info reads GET /konform/v1/info.
func (c *Client) Info(ctx context.Context) (contract.Info, error) {
	var info contract.Info
	_, err := c.get(ctx, contract.ProbeInfoPath, &info)
	return info, err
}

// Record reads the SUT's record of a submission. found is false while the SUT has not taken it in.
func (c *Client) Record(ctx context.Context, submissionID string) (rec contract.Record, found bool, err error) {
	status, err := c.get(ctx, fmt.Sprintf(contract.ProbeSubmissionsPathFmt, url.PathEscape(submissionID)), &rec)
	if status == http.StatusNotFound {
		return contract.Record{}, false, nil
	}
	return rec, err == nil, err
}

// XTARecord reads the SUT's record of a message that came over XTA, by its MessageID. found is
// false while the SUT has not taken it in.
func (c *Client) XTARecord(ctx context.Context, messageID string) (rec contract.Record, found bool, err error) {
	status, err := c.get(ctx, fmt.Sprintf(contract.ProbeXTAMessagesPathFmt, url.PathEscape(messageID)), &rec)
	if status == http.StatusNotFound {
		return contract.Record{}, false, nil
	}
	return rec, err == nil, err
}

// Cases reads every case the SUT holds.
func (c *Client) Cases(ctx context.Context) ([]contract.CaseEntry, error) {
	var list contract.CaseList
	_, err := c.get(ctx, contract.ProbeCasesPath, &list)
	return list.Cases, err
}

// CasesFor returns the SUT's cases for one submission.
func (c *Client) CasesFor(ctx context.Context, submissionID string) ([]contract.CaseEntry, error) {
	all, err := c.Cases(ctx)
	if err != nil {
		return nil, err
	}
	var out []contract.CaseEntry
	for _, cs := range all {
		if cs.SubmissionID == submissionID {
			out = append(out, cs)
		}
	}
	return out, nil
}

func (c *Client) get(ctx context.Context, path string, into any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return 0, fmt.Errorf("probe %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("probe %s: SUT unreachable: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("probe %s: reading answer: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("probe %s: status %d: %s", path, resp.StatusCode, excerpt(body))
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(into); err != nil {
		return resp.StatusCode, fmt.Errorf("probe %s: answer is not the contract's JSON: %w: %s", path, err, excerpt(body))
	}
	return resp.StatusCode, nil
}

func excerpt(b []byte) string {
	const max = 300
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
