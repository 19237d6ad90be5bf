package oktasim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// expr is a parsed search or filter expression (SCIM-like: attr op "value",
// and, or, parentheses).
type expr interface {
	eval(u *user) bool
}

type andExpr struct{ l, r expr }
type orExpr struct{ l, r expr }
type cmpExpr struct {
	attr, op, value string
	fold            bool // search compares values ignoring case; filter does not
}

func (e andExpr) eval(u *user) bool { return e.l.eval(u) && e.r.eval(u) }
func (e orExpr) eval(u *user) bool  { return e.l.eval(u) || e.r.eval(u) }

func (e cmpExpr) eval(u *user) bool {
	vals, present := userValues(u, e.attr)
	if e.op == "pr" {
		return present
	}
	for _, v := range vals {
		a, b := v, e.value
		if e.fold {
			a, b = strings.ToLower(a), strings.ToLower(b)
		}
		var ok bool
		switch e.op {
		case "eq":
			ok = a == b
		case "sw":
			ok = strings.HasPrefix(a, b)
		case "co":
			ok = strings.Contains(a, b)
		case "gt":
			ok = a > b
		case "ge":
			ok = a >= b
		case "lt":
			ok = a < b
		case "le":
			ok = a <= b
		}
		if ok {
			return true
		}
	}
	return false
}

// userValues is the value(s) of attr for u as strings; arrays give one
// value per element.
func userValues(u *user, attr string) ([]string, bool) {
	one := func(s string) ([]string, bool) { return []string{s}, true }
	opt := func(p *string) ([]string, bool) {
		if p == nil {
			return nil, false
		}
		return one(*p)
	}
	switch attr {
	case "id":
		return one(u.ID)
	case "status":
		return one(u.Status)
	case "created":
		return one(formatTime(u.Created))
	case "lastUpdated":
		return one(formatTime(u.LastUpdated))
	case "activated":
		return opt(formatTimeP(u.Activated))
	case "statusChanged":
		return opt(formatTimeP(u.StatusChanged))
	case "passwordChanged":
		return opt(formatTimeP(u.PasswordChanged))
	case "lastLogin":
		return opt(formatTimeP(u.LastLogin))
	}
	name, ok := strings.CutPrefix(attr, "profile.")
	if !ok {
		return nil, false
	}
	raw, present := u.Profile[name]
	if !present || raw == nil {
		return nil, false
	}
	if arr, ok := raw.([]any); ok {
		out := make([]string, 0, len(arr))
		for _, x := range arr {
			out = append(out, fmt.Sprint(x))
		}
		return out, true
	}
	return one(fmt.Sprint(raw))
}

// filterAttributes are the only properties filter= accepts (spec,
// listUsers filter); only lastUpdated takes gt/ge/lt/le.
var filterAttributes = []string{"status", "lastUpdated", "id", "profile.login", "profile.email", "profile.firstName", "profile.lastName"}

var coAttributes = []string{"profile.firstName", "profile.lastName", "profile.email", "profile.login"}

type parser struct {
	toks   []string
	pos    int
	filter bool
}

// parseExpr parses a search (filter=false) or filter expression.
func parseExpr(s string, filter bool) (expr, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, filter: filter}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return e, nil
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) or() (expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orExpr{l, r}
	}
	return l, nil
}

func (p *parser) and() (expr, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "and") {
		p.pos++
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		l = andExpr{l, r}
	}
	return l, nil
}

func (p *parser) term() (expr, error) {
	t := p.peek()
	if t == "" {
		return nil, errors.New("unexpected end of expression")
	}
	if t == "(" {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, errors.New("missing )")
		}
		p.pos++
		return e, nil
	}
	if strings.HasPrefix(t, "\"") || t == ")" {
		return nil, fmt.Errorf("unexpected %q", t)
	}
	attr := t
	p.pos++
	op := strings.ToLower(p.peek())
	p.pos++
	if !slices.Contains([]string{"eq", "sw", "co", "pr", "gt", "ge", "lt", "le"}, op) {
		return nil, fmt.Errorf("unsupported operator %q", op)
	}
	if p.filter {
		if !slices.Contains(filterAttributes, attr) {
			return nil, fmt.Errorf("filter does not support %q", attr)
		}
		if op != "eq" && (attr != "lastUpdated" || op == "sw" || op == "co" || op == "pr") {
			return nil, fmt.Errorf("filter does not support %s on %q", op, attr)
		}
	}
	if op == "co" && !slices.Contains(coAttributes, attr) {
		return nil, fmt.Errorf("co is not supported on %q", attr)
	}
	if op == "pr" {
		return cmpExpr{attr: attr, op: op}, nil
	}
	v := p.peek()
	if v == "" || v == "(" || v == ")" {
		return nil, errors.New("missing value")
	}
	p.pos++
	if strings.HasPrefix(v, "\"") {
		v = v[1:]
	}
	return cmpExpr{attr: attr, op: op, value: v, fold: !p.filter}, nil
}

// tokenize splits an expression; a quoted string becomes one token that
// starts with `"` (unescaped, without the closing quote).
func tokenize(s string) ([]string, error) {
	var toks []string
	rs := []rune(s)
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '"':
			var b strings.Builder
			b.WriteByte('"')
			i++
			closed := false
			for i < len(rs) {
				if rs[i] == '\\' && i+1 < len(rs) {
					b.WriteRune(rs[i+1])
					i += 2
					continue
				}
				if rs[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteRune(rs[i])
				i++
			}
			if !closed {
				return nil, errors.New("unterminated string")
			}
			toks = append(toks, b.String())
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && rs[j] != '(' && rs[j] != ')' && rs[j] != '"' {
				j++
			}
			toks = append(toks, string(rs[i:j]))
			i = j
		}
	}
	return toks, nil
}
