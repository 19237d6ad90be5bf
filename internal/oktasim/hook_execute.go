package oktasim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// executeHook is POST /api/v1/inlineHooks/{inlineHookId}/execute
// (executeInlineHook): the request body goes to the hook through its
// channel, with its auth header, as Okta would send it; the hook's JSON
// answer comes back as is. A timeout, a network error or a 5xx is retried
// once; if no good answer comes, 400 E0000001 says what failed. The body is
// a test payload (for a password import hook it holds a made-up password):
// it is passed on and never logged.
func (s *Server) executeHook(w http.ResponseWriter, r *http.Request, p params) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.")
		return
	}
	if !json.Valid(body) || len(bytes.TrimSpace(body)) == 0 || bytes.TrimSpace(body)[0] != '{' {
		writeError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.")
		return
	}
	st := s.store
	st.mu.Lock()
	h := st.hooks[p["inlineHookId"]]
	var hk inlineHook
	if h != nil {
		hk = *h
	}
	st.mu.Unlock()
	if h == nil {
		writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+p["inlineHookId"]+" (InlineHook)")
		return
	}
	var answer []byte
	for attempt := 0; attempt < 2; attempt++ {
		var retry bool
		answer, retry, err = s.executeOnce(r.Context(), hk, body)
		if err == nil || !retry || r.Context().Err() != nil {
			break
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: executeInlineHook", "Inline hook execution failed: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
}

func (s *Server) executeOnce(ctx context.Context, h inlineHook, payload []byte) (answer []byte, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.HookTimeout)
	defer cancel()
	req, retry, err := s.newHookRequest(ctx, h, payload)
	if err != nil {
		return nil, retry, err
	}
	res, err := s.hookHTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, true, errors.New("the hook did not answer within 3 seconds")
		}
		return nil, true, errors.New("the hook could not be reached")
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 256<<10+1))
	switch {
	case err != nil:
		return nil, true, errors.New("the hook's answer could not be read")
	case res.StatusCode >= 500 || res.StatusCode < 200 || (res.StatusCode >= 300 && res.StatusCode < 400):
		return nil, res.StatusCode >= 500, fmt.Errorf("the hook answered %d", res.StatusCode)
	case res.StatusCode >= 400:
		return nil, false, fmt.Errorf("the hook answered %d", res.StatusCode)
	case len(body) > 256<<10:
		return nil, false, errors.New("the hook's answer is 256 KB or more")
	case res.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(body)) == 0:
		// No commands: Okta applies the default action.
		return []byte(`{}`), false, nil
	case !json.Valid(body):
		return nil, false, errors.New("the hook's answer is not JSON")
	}
	return body, false, nil
}
