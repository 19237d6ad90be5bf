package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/templates"
)

// formReader reads an HTML form into service inputs, collecting the
// messages for values that are not even of the right type (a count that is
// not a number) so that the form re-renders with them.
type formReader struct {
	c     echo.Context
	form  templates.Form
	check *apperr.Check
}

func newFormReader(c echo.Context) *formReader {
	return &formReader{c: c, form: templates.NewForm(), check: apperr.NewCheck()}
}

// text returns the field's value, remembered for re-rendering.
func (f *formReader) text(name string) *string {
	v := f.c.FormValue(name)
	f.form.Values[name] = v
	return &v
}

// int64 parses a whole number; an empty or malformed value gets a message.
func (f *formReader) int64(name, label string) *int64 {
	raw := strings.TrimSpace(f.c.FormValue(name))
	f.form.Values[name] = raw
	n, err := strconv.ParseInt(strings.ReplaceAll(raw, ",", ""), 10, 64)
	if err != nil {
		if raw == "" {
			f.check.Add(name, label+" is required.")
		} else {
			f.check.Add(name, label+" must be a whole number.")
		}
		return nil
	}
	return &n
}

// int parses a whole number that fits an int.
func (f *formReader) int(name, label string) *int {
	n := f.int64(name, label)
	if n == nil {
		return nil
	}
	if *n > 1<<31-1 || *n < -(1<<31) {
		f.check.Add(name, label+" is far too large.")
		return nil
	}
	v := int(*n)
	return &v
}

// bool reads a checkbox.
func (f *formReader) bool(name string) *bool {
	v := f.c.FormValue(name) == "true"
	if v {
		f.form.Values[name] = "true"
	}
	return &v
}

// ids reads a multi-valued field of record ids.
func (f *formReader) ids(name, label string) *[]int64 {
	params, _ := f.c.FormParams()
	raw := params[name]
	f.form.Multi[name] = raw
	out := []int64{}
	for _, v := range raw {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			f.check.Add(name, "One of the selected "+label+" is not valid.")
			continue
		}
		out = append(out, n)
	}
	return &out
}

// version reads the record version the form was loaded with.
func (f *formReader) version() int64 {
	raw := f.c.FormValue("version")
	f.form.Values["version"] = raw
	n, _ := strconv.ParseInt(raw, 10, 64)
	return n
}

// failed returns the form with err's messages, or nil when err is not a
// validation or conflict error (those go to the error handler).
func (f *formReader) failed(err error) *templates.Form {
	ae := apperr.As(err)
	if ae.Code != apperr.CodeInvalid && ae.Code != apperr.CodeConflict {
		return nil
	}
	form := f.form.WithError(ae)
	return &form
}

// parseErr returns the type errors found while reading, if any.
func (f *formReader) parseErr() error { return f.check.Err() }

// pathID parses a numeric path parameter.
func pathID(c echo.Context, name, what string) (int64, error) {
	n, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, apperr.NotFound(what)
	}
	return n, nil
}

// statusForForm is the status of a re-rendered form: 409 after a version
// conflict, 422 for invalid input.
func statusForForm(err error) int {
	if apperr.Is(err, apperr.CodeConflict) {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}
