package staging

import "github.com/ferry-migrate/ferry/internal/staging/attrjson"

// The JSON of the attributes_json, edits_json and profile_json columns is
// written and read through attrjson: the same bytes as encoding/json,
// several times faster, which staging a million records needs.

// appendAttributes encodes a record's attributes (or edits) as stored.
func appendAttributes(dst []byte, m map[string][]string) []byte { return attrjson.Append(dst, m) }

// DecodeAttributes decodes an attributes_json or edits_json column.
func DecodeAttributes(data []byte) (map[string][]string, error) { return attrjson.Decode(data) }

// AppendProfile encodes an Okta profile as stored in staged_profiles: a JSON
// object with the attributes in name order.
func AppendProfile(dst []byte, profile map[string]string) []byte {
	return attrjson.AppendStrings(dst, profile)
}
