package apperr

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text length caps shared by every service, so that no field is unbounded.
const (
	MaxNameLen  = 200
	MaxShortLen = 500
	MaxTextLen  = 10000
)

// Check collects per-field validation messages; the first message for a field wins.
type Check struct {
	fields map[string]string
}

// NewCheck starts an empty set of field messages.
func NewCheck() *Check { return &Check{fields: map[string]string{}} }

// Add records message for field unless the field already has one.
func (c *Check) Add(field, message string) {
	if _, ok := c.fields[field]; !ok {
		c.fields[field] = message
	}
}

// OK reports whether no message was recorded.
func (c *Check) OK() bool { return len(c.fields) == 0 }

// Err returns an Invalid error carrying every field message, or nil.
func (c *Check) Err() error {
	if c.OK() {
		return nil
	}
	return Invalid("Please correct the highlighted fields.", c.fields)
}

// Text checks a free-text field: valid UTF-8, no control characters other than
// newlines and tabs, at most max characters, and present when required.
func (c *Check) Text(field, label, value string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(value) == "":
		c.Add(field, label+" is required.")
	case !utf8.ValidString(value):
		c.Add(field, label+" is not valid UTF-8 text.")
	case utf8.RuneCountInString(value) > max:
		c.Add(field, fmt.Sprintf("%s is too long: at most %d characters, this has %d.", label, max, utf8.RuneCountInString(value)))
	case hasControl(value):
		c.Add(field, label+" contains control characters.")
	}
}

// Name checks a single-line name: required, at most MaxNameLen, no line breaks.
func (c *Check) Name(field, label, value string) {
	c.Text(field, label, value, true, MaxNameLen)
	if strings.ContainsAny(value, "\r\n") {
		c.Add(field, label+" must be a single line.")
	}
}

// Count checks a number of people: between 0 and max.
func (c *Check) Count(field, label string, value, max int64) {
	if value < 0 {
		c.Add(field, label+" cannot be negative.")
	} else if value > max {
		c.Add(field, fmt.Sprintf("%s looks wrong: %d is more than the %d allowed.", label, value, max))
	}
}

// OneOf checks that value is one of allowed (the empty string is allowed only when optional).
func (c *Check) OneOf(field, label, value string, allowed []string, optional bool) {
	if value == "" && optional {
		return
	}
	if !slices.Contains(allowed, value) {
		c.Add(field, fmt.Sprintf("%s must be one of: %s.", label, strings.Join(allowed, ", ")))
	}
}

// URL checks an optional absolute http(s) URL.
func (c *Check) URL(field, label, value string) {
	if value == "" {
		return
	}
	c.Text(field, label, value, false, MaxShortLen)
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		c.Add(field, label+" must be a full web address starting with https://.")
	}
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return true
		}
	}
	return false
}
