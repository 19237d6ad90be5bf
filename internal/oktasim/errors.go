package oktasim

import (
	"crypto/rand"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
)

// errorBody is Okta's error object (the spec's Error schema).
type errorBody struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []errorCause `json:"errorCauses"`
}

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

// writeError answers with Okta's error body; causes become errorCauses.
func writeError(w http.ResponseWriter, status int, code, summary string, causes ...string) {
	body := errorBody{ErrorCode: code, ErrorSummary: summary, ErrorLink: code, ErrorID: "oae" + newID("", 22), ErrorCauses: []errorCause{}}
	for _, c := range causes {
		body.ErrorCauses = append(body.ErrorCauses, errorCause{ErrorSummary: c})
	}
	writeJSON(w, status, body)
}

// validationError is a 400 E0000001: "Api validation failed: <field>" with
// one cause per problem, as Okta reports profile and credential problems.
type validationError struct {
	field  string
	causes []string
}

func (v *validationError) add(field, cause string) {
	if v.field == "" {
		v.field = field
	}
	v.causes = append(v.causes, cause)
}

func (v *validationError) empty() bool { return len(v.causes) == 0 }

func (v *validationError) write(w http.ResponseWriter) {
	writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: "+v.field, v.causes...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decodeBody reads a JSON request body into v, answering 400 E0000003 when
// it is not well-formed.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.")
		return false
	}
	return true
}

func notFound(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+what+" ("+kindOf(what)+")")
}

func kindOf(id string) string {
	switch {
	case strings.HasPrefix(id, "00g"):
		return "UserGroup"
	case strings.HasPrefix(id, "cal"):
		return "InlineHook"
	}
	return "User"
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix followed by random alphanumerics, n characters in
// all, like Okta's ids (00u…, 00g…, cal…: 20 characters).
func newID(prefix string, n int) string {
	b := []byte(prefix)
	for len(b) < n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(idAlphabet))))
		if err != nil {
			panic(err)
		}
		b = append(b, idAlphabet[i.Int64()])
	}
	return string(b)
}
