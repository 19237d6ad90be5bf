package web

import (
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// Long lists of the API (staged records, occurrences…) are paged by keyset:
// ?after=<the id of the last item of the previous page>&limit=<n>, and each
// page names the next one.
const (
	apiPageDefault = 100
	apiPageMax     = 1000
)

// pageRequest is the paging a client asked for.
type pageRequest struct {
	after int64
	limit int
}

// readPage reads ?after and ?limit.
func readPage(c echo.Context) (pageRequest, error) {
	pg := pageRequest{limit: apiPageDefault}
	fields := map[string]string{}
	if raw := c.QueryParam("after"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			fields["after"] = "after must be the id of the last item of the previous page: a whole number, 0 or more."
		}
		pg.after = n
	}
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > apiPageMax {
			fields["limit"] = fmt.Sprintf("limit must be a whole number from 1 to %d.", apiPageMax)
		}
		pg.limit = n
	}
	if len(fields) > 0 {
		return pg, apperr.Invalid("Please correct the listed fields.", fields)
	}
	return pg, nil
}

// pageResponse is one page of a long list. Next is the path (with the
// query) of the following page, absent on the last page.
type pageResponse[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// fetchPage reads one page through fetch (the items after a cursor, at most
// n) and returns it with the path of the next page, "" when there is none: a
// full page is followed by a look for one more item, so that the last page
// never names an empty one.
func fetchPage[T any](c echo.Context, pg pageRequest, fetch func(after int64, n int) ([]T, error), idOf func(T) int64) ([]T, string, error) {
	items, err := fetch(pg.after, pg.limit)
	if err != nil {
		return nil, "", err
	}
	if len(items) > pg.limit {
		items = items[:pg.limit]
	}
	next := ""
	if len(items) == pg.limit {
		last := idOf(items[len(items)-1])
		more, err := fetch(last, 1)
		if err != nil {
			return nil, "", err
		}
		if len(more) > 0 {
			q := c.Request().URL.Query()
			q.Set("after", strconv.FormatInt(last, 10))
			q.Set("limit", strconv.Itoa(pg.limit))
			next = c.Request().URL.Path + "?" + q.Encode()
		}
	}
	return items, next, nil
}
