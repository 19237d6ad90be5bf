package transform

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// DateLayouts lists the named layouts a date step understands, besides Go
// reference layouts such as "2006-01-02" or "Jan 2, 2006":
//
//	yyyy-mm-dd, yyyy/mm/dd, dd/mm/yyyy, mm/dd/yyyy, dd.mm.yyyy, dd-mm-yyyy,
//	yyyymmdd      dates; day and month may have one digit when read
//	rfc3339       2023-12-31T23:59:59Z (with an offset or fraction when read)
//	ad_generalized  Active Directory's generalized time, 20231231235959.0Z
//	ad_filetime   Active Directory's 100-nanosecond intervals since 1601
//	              (accountExpires, pwdLastSet); 0 and 9223372036854775807
//	              mean "never" and become an empty value
//	unix          seconds since 1970-01-01 UTC
//	unix_ms       milliseconds since 1970-01-01 UTC
//
// Names are matched ignoring case. Dates without a time zone are UTC.
func DateLayouts() []string {
	return []string{"yyyy-mm-dd", "yyyy/mm/dd", "dd/mm/yyyy", "mm/dd/yyyy", "dd.mm.yyyy", "dd-mm-yyyy",
		"yyyymmdd", "rfc3339", "ad_generalized", "ad_filetime", "unix", "unix_ms"}
}

// dateLayout reads and writes dates in one layout.
type dateLayout struct {
	parse  func(s string) (time.Time, error)
	format func(t time.Time) (string, error)
}

// errNever marks an AD timestamp that means "never".
var errNever = errors.New("never")

// goDateLayout reads with a lenient layout (one-digit days and months) and
// writes with a strict one.
func goDateLayout(read, write string) dateLayout {
	return dateLayout{
		parse: func(s string) (time.Time, error) { return time.Parse(read, s) },
		format: func(t time.Time) (string, error) {
			if t.Year() < 0 || t.Year() > 9999 {
				return "", errors.New("the date is outside the years 0 to 9999")
			}
			return t.Format(write), nil
		},
	}
}

// adEpoch is 1601-01-01 in Unix seconds.
const adEpoch = -11644473600

// lookupDateLayout returns the layout for a name or Go layout, or a message
// saying why it is not one.
func lookupDateLayout(name string) (dateLayout, string) {
	switch strings.ToLower(name) {
	case "yyyy-mm-dd":
		return goDateLayout("2006-1-2", "2006-01-02"), ""
	case "yyyy/mm/dd":
		return goDateLayout("2006/1/2", "2006/01/02"), ""
	case "dd/mm/yyyy":
		return goDateLayout("2/1/2006", "02/01/2006"), ""
	case "mm/dd/yyyy":
		return goDateLayout("1/2/2006", "01/02/2006"), ""
	case "dd.mm.yyyy":
		return goDateLayout("2.1.2006", "02.01.2006"), ""
	case "dd-mm-yyyy":
		return goDateLayout("2-1-2006", "02-01-2006"), ""
	case "yyyymmdd":
		return goDateLayout("20060102", "20060102"), ""
	case "rfc3339":
		return goDateLayout(time.RFC3339Nano, time.RFC3339), ""
	case "ad_generalized":
		return dateLayout{parse: parseGeneralizedTime, format: func(t time.Time) (string, error) {
			t = t.UTC()
			if t.Year() < 0 || t.Year() > 9999 {
				return "", errors.New("the date is outside the years 0 to 9999")
			}
			return t.Format("20060102150405") + ".0Z", nil
		}}, ""
	case "ad_filetime":
		return dateLayout{parse: parseFiletime, format: formatFiletime}, ""
	case "unix":
		return dateLayout{parse: func(s string) (time.Time, error) { return parseEpoch(s, 1) },
			format: func(t time.Time) (string, error) { return strconv.FormatInt(t.Unix(), 10), nil }}, ""
	case "unix_ms":
		return dateLayout{parse: func(s string) (time.Time, error) { return parseEpoch(s, 1000) },
			format: func(t time.Time) (string, error) { return strconv.FormatInt(t.UnixMilli(), 10), nil }}, ""
	}
	// A Go reference layout: it must contain at least one element (so that
	// a date other than the reference one is written differently), and
	// read back what it writes.
	ref := time.Date(1999, 11, 23, 21, 47, 38, 0, time.UTC)
	if len(name) > 100 {
		return dateLayout{}, "is longer than 100 characters"
	}
	if name == "" || ref.Format(name) == name {
		return dateLayout{}, fmt.Sprintf("must be a layout such as %s, or a Go layout such as 2006-01-02", strings.Join(DateLayouts(), ", "))
	}
	if _, err := time.Parse(name, ref.Format(name)); err != nil {
		return dateLayout{}, "is a Go layout that cannot read back the dates it writes"
	}
	return goDateLayout(name, name), ""
}

func compileDate(s Step, bad badFunc) (stepFunc, *DefinitionError) {
	from, msg := lookupDateLayout(s.From)
	if msg != "" {
		return bad("from", `"from" %s`, msg)
	}
	to, msg := lookupDateLayout(s.To)
	if msg != "" {
		return bad("to", `"to" %s`, msg)
	}
	fromName := s.From
	return func(_ Record, v string) (string, error) {
		v = trimSpace(v)
		if v == "" {
			return "", nil
		}
		if len(v) > 100 {
			return "", fmt.Errorf("not a date in the form %s (too long)", fromName)
		}
		t, err := from.parse(v)
		if errors.Is(err, errNever) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("not a date in the form %s", fromName)
		}
		return to.format(t)
	}, nil
}

// parseGeneralizedTime reads YYYYMMDDHHMMSS[.fraction](Z|±hhmm).
func parseGeneralizedTime(s string) (time.Time, error) {
	bad := errors.New("not a generalized time")
	if len(s) < 15 || !allDigits(s[:14]) {
		return time.Time{}, bad
	}
	num := func(i, j int) int { n, _ := strconv.Atoi(s[i:j]); return n }
	year, month, day, hour, minute, sec := num(0, 4), num(4, 6), num(6, 8), num(8, 10), num(10, 12), num(12, 14)
	rest := s[14:]
	nsec := 0
	if rest[0] == '.' || rest[0] == ',' {
		j := 1
		for j < len(rest) && '0' <= rest[j] && rest[j] <= '9' {
			j++
		}
		frac := rest[1:j]
		if frac == "" || len(frac) > 9 {
			return time.Time{}, bad
		}
		n, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
		nsec = n
		rest = rest[j:]
	}
	loc := time.UTC
	switch {
	case rest == "Z":
	case len(rest) == 5 && (rest[0] == '+' || rest[0] == '-') && allDigits(rest[1:]):
		h, _ := strconv.Atoi(rest[1:3])
		m, _ := strconv.Atoi(rest[3:5])
		if h > 23 || m > 59 {
			return time.Time{}, bad
		}
		off := h*3600 + m*60
		if rest[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	default:
		return time.Time{}, bad
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	// time.Date normalises 31 February into March: refuse what it changed.
	if t.Year() != year || int(t.Month()) != month || t.Day() != day || t.Hour() != hour || t.Minute() != minute || t.Second() != sec {
		return time.Time{}, bad
	}
	return t, nil
}

func parseFiletime(s string) (time.Time, error) {
	if s == "" || len(s) > 19 || !allDigits(s) {
		return time.Time{}, errors.New("not a file time")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	if n == 0 || n == math.MaxInt64 {
		return time.Time{}, errNever
	}
	return time.Unix(n/1e7+adEpoch, (n%1e7)*100).UTC(), nil
}

func formatFiletime(t time.Time) (string, error) {
	if t.Before(time.Unix(adEpoch, 0)) {
		return "", errors.New("the date is before 1601, which ad_filetime cannot hold")
	}
	if t.Year() > 9999 {
		return "", errors.New("the date is after the year 9999")
	}
	n := (t.Unix()-adEpoch)*1e7 + int64(t.Nanosecond()/100)
	return strconv.FormatInt(n, 10), nil
}

// parseEpoch reads whole seconds (perSecond 1) or milliseconds (1000) since
// 1970, within the years 1 to 9999.
func parseEpoch(s string, perSecond int64) (time.Time, error) {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || len(digits) > 15 || !allDigits(digits) {
		return time.Time{}, errors.New("not a number")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	t := time.Unix(n/perSecond, (n%perSecond)*(1e9/perSecond)).UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, errors.New("out of range")
	}
	return t, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
