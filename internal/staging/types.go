package staging

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// typeGuess narrows down a column's type from the values seen: it starts as
// "nothing seen" and widens to string at the first value that fits nothing
// narrower.
type typeGuess struct {
	seen                                    bool
	notInteger, notNumber, notBool, notDate bool
}

func (g *typeGuess) observe(v string) {
	g.seen = true
	v = strings.TrimSpace(v)
	if !g.notInteger {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			g.notInteger = true
		}
	}
	if !g.notNumber {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			g.notNumber = true
		}
	}
	if !g.notBool {
		switch strings.ToLower(v) {
		case "true", "false", "yes", "no":
		default:
			g.notBool = true
		}
	}
	if !g.notDate {
		if !looksLikeDate(v) {
			g.notDate = true
		}
	}
}

func looksLikeDate(v string) bool {
	for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02 15:04:05", "20060102150405.0Z"} {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}

// name is the mapping data type the values fit: integer, number, boolean, date or string.
func (g typeGuess) name() string {
	switch {
	case !g.seen:
		return "string"
	case !g.notInteger:
		return "integer"
	case !g.notNumber:
		return "number"
	case !g.notBool:
		return "boolean"
	case !g.notDate:
		return "date"
	}
	return "string"
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}
