package okta

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Page is one page of a list. Items is never nil after a successful fetch.
// NextURL is the Link header's rel="next" target ("" on the last page); a
// loader may store it to resume a listing later with ResumePage.
type Page[T any] struct {
	Items    []T
	NextURL  string
	Response Response

	client *Client
	op     string
	tmpl   string
}

// HasNext says there is a next page.
func (p *Page[T]) HasNext() bool { return p.NextURL != "" }

// Next fetches the next page. It refuses a link that leaves the configured
// org (another host, scheme or port), which would send the token there.
func (p *Page[T]) Next(ctx context.Context) (*Page[T], error) {
	if p.NextURL == "" {
		return nil, errors.New("okta: " + p.op + ": no next page")
	}
	return fetchPage[T](ctx, p.client, call{op: p.op, method: http.MethodGet, tmpl: p.tmpl, next: p.NextURL})
}

// ResumePage fetches the page at nextURL, a NextURL saved earlier from a
// page of Ts on the same org, e.g. okta.ResumePage[okta.User](ctx, c, saved).
func ResumePage[T any](ctx context.Context, c *Client, nextURL string) (*Page[T], error) {
	return fetchPage[T](ctx, c, call{op: "resumePage", method: http.MethodGet, tmpl: "(next link)", next: nextURL})
}

func fetchPage[T any](ctx context.Context, c *Client, k call) (*Page[T], error) {
	items := []T{}
	res, h, err := c.do(ctx, k, &items)
	if err != nil {
		return nil, err
	}
	if items == nil { // a JSON null
		items = []T{}
	}
	p := &Page[T]{Items: items, Response: res, client: c, op: k.op, tmpl: k.tmpl}
	p.NextURL = nextLink(h.Values("Link"))
	if p.NextURL != "" {
		// Checked here as well as in Next, so that a caller storing
		// NextURL never stores a foreign one.
		if _, err := c.checkNext(p.NextURL); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// nextLink finds the rel="next" target among Link header values
// (RFC 8288: `<url>; rel="next"`, several per header or several headers).
func nextLink(values []string) string {
	for _, v := range values {
		for _, part := range splitLinks(v) {
			part = strings.TrimSpace(part)
			if !strings.HasPrefix(part, "<") {
				continue
			}
			end := strings.Index(part, ">")
			if end < 0 {
				continue
			}
			target := part[1:end]
			for _, param := range strings.Split(part[end+1:], ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(param), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
					if strings.EqualFold(rel, "next") {
						return target
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header value at the commas between links, not
// at commas inside <…>.
func splitLinks(v string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range v {
		switch r {
		case '<':
			depth++
		case '>':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}
