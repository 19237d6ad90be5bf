package staging

import "github.com/ferry-migrate/ferry/internal/staging/attrjson"

// The JSON of the attributes_json, edits_json and profile_json columns is
// written and read through attrjson: the same bytes as encoding/json,
// several times faster, which staging a million records needs.

// appendAttributes encodes a record's attributes (or edits) as stored;
// sorted may list the keys in advance, in order (see attrjson.AppendSorted).
func appendAttributes(dst []byte, sorted []string, m map[string][]string) []byte {
	return attrjson.AppendSorted(dst, sorted, m)
}

// DecodeAttributes decodes an attributes_json or edits_json column.
func DecodeAttributes(data []byte) (map[string][]string, error) { return attrjson.Decode(data) }

// AttributeDecoder decodes attributes_json columns one after another,
// reusing its memory: each result is valid until the next Decode (the
// strings in it stay valid).
type AttributeDecoder struct{ reuse attrjson.Reuse }

// Decode is DecodeAttributes, valid until the next call.
func (d *AttributeDecoder) Decode(data []byte) (map[string][]string, error) {
	return attrjson.DecodeReuse(&d.reuse, data)
}

// AppendProfile encodes an Okta profile as stored in staged_profiles: a JSON
// object with the attributes in name order; sorted may list the attribute
// names in advance, in order (mapping.Profiler.Targets).
func AppendProfile(dst []byte, sorted []string, profile map[string]string) []byte {
	return attrjson.AppendStringsSorted(dst, sorted, profile)
}
