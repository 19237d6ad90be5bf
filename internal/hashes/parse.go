package hashes

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// tier-one formats announce themselves with a prefix; their shape is
// unambiguous. prefixFormat returns the format a value's prefix claims, or
// "" when it has none.
func prefixFormat(v string) Format {
	upper := strings.ToUpper(v)
	switch {
	case strings.HasPrefix(v, "$2"):
		return FormatBcrypt
	case strings.HasPrefix(upper, "{CRYPT}"):
		rest := v[len("{CRYPT}"):]
		if strings.HasPrefix(rest, "$2") {
			return FormatBcrypt
		}
		return FormatCrypt
	case strings.HasPrefix(upper, "{ARGON2}"), strings.HasPrefix(v, "$argon2"), strings.HasPrefix(v, "argon2$argon2"):
		return FormatArgon2
	case strings.HasPrefix(upper, "{CLEARTEXT}"):
		return FormatPlaintext
	case strings.HasPrefix(v, "{"):
		return FormatLDAP
	case strings.HasPrefix(v, "$scrypt$"), strings.HasPrefix(v, "scrypt:"), strings.HasPrefix(v, "$7$"):
		return FormatScrypt
	case strings.HasPrefix(v, "$1$"), strings.HasPrefix(v, "$5$"), strings.HasPrefix(v, "$6$"),
		strings.HasPrefix(v, "$y$"), strings.HasPrefix(v, "$gy$"), strings.HasPrefix(v, "$md5"),
		strings.HasPrefix(v, "$sha1$"):
		return FormatCrypt
	case strings.HasPrefix(v, "pbkdf2_sha"):
		return FormatDjangoPBKDF2
	case strings.HasPrefix(v, "$pbkdf2"):
		return FormatPasslibPBKDF2
	case strings.HasPrefix(v, "pbkdf2:"):
		return FormatWerkzeugPBKDF2
	}
	if looksASPNetIdentity(v) {
		return FormatASPNetIdentity
	}
	return ""
}

// looksASPNetIdentity: base64 of a v2 blob (0x00, 16-byte salt, 32-byte
// subkey) or of a v3 blob whose header is consistent with its length.
func looksASPNetIdentity(v string) bool {
	if len(v) < 64 || !strings.HasSuffix(v, "=") && len(v)%4 != 0 {
		return false
	}
	b, ok := decodeBase64(v)
	if !ok {
		return false
	}
	switch {
	case b[0] == 0x00 && len(b) == 49:
		return true
	case b[0] == 0x01 && len(b) >= 13:
		prf := binary.BigEndian.Uint32(b[1:5])
		saltLen := binary.BigEndian.Uint32(b[9:13])
		return prf <= 2 && saltLen >= 8 && uint64(saltLen)+13+16 <= uint64(len(b))
	}
	return false
}

// shapeCandidates lists, for a value without a prefix, the formats whose
// shape it fits, in the order of allFormats then the declared-only formats.
func shapeCandidates(v Stored) []Format {
	var out []Format
	if sum, ok := digestBytes(v.Value); ok {
		for f, alg := range digestFormat {
			if d, _ := digestByName(alg); d.size == len(sum) {
				out = append(out, f)
			}
		}
		switch len(sum) {
		case 16, 20, 32, 48, 64:
			out = append(out, FormatIteratedDigest)
		}
		if v.Salt != "" && !isHex(v.Value) {
			switch len(sum) {
			case 20, 32, 64:
				out = append(out, FormatASPNetMembership)
			}
		}
	}
	return append(out, FormatPlaintext)
}

// Detect returns the format of one value within the formats the source
// allows, and a note when the choice was not the declared default or the
// value's shape fits several formats. A value in a format the source does
// not allow gives ErrNotAllowed; one that fits nothing gives FormatUnknown.
func (s Source) Detect(v Stored) (Format, string, error) {
	if pf := prefixFormat(v.Value); pf != "" {
		if len(s.Formats) > 0 && !s.lists(pf) {
			return pf, "", &Error{Kind: ErrNotAllowed, Format: pf,
				Msg: fmt.Sprintf("the value looks like %s, which the source's formats do not include", pf)}
		}
		return pf, s.disagreement(pf, nil), nil
	}
	var fits []Format
	for _, f := range shapeCandidates(v) {
		if s.lists(f) {
			fits = append(fits, f)
		}
	}
	if len(fits) == 0 {
		// A source that declares its format wants to hear why the value
		// is not in it, rather than a shrug.
		if d := s.declared(); d != "" {
			if _, err := s.ParseAs(d, v); err != nil {
				return d, "", err
			}
		}
		return FormatUnknown, s.disagreement(FormatUnknown, nil), nil
	}
	chosen := fits[0]
	if len(s.Formats) > 0 {
		// The source's order is its preference.
		for _, f := range s.Formats {
			if contains(fits, f) {
				chosen = f
				break
			}
		}
	}
	if s.Default != "" && contains(fits, s.Default) {
		chosen = s.Default
	}
	return chosen, s.disagreement(chosen, fits), nil
}

// declared is the source's one declared format: its default, or the only
// format it lists.
func (s Source) declared() Format {
	if s.Default != "" {
		return s.Default
	}
	if len(s.Formats) == 1 {
		return s.Formats[0]
	}
	return ""
}

func (s Source) disagreement(chosen Format, fits []Format) string {
	var notes []string
	if s.Default != "" && chosen != s.Default {
		notes = append(notes, fmt.Sprintf("declared %s but the value is %s", s.Default, chosen))
	}
	var others []string
	for _, f := range fits {
		if f != chosen && f != FormatPlaintext {
			others = append(others, string(f))
		}
	}
	if len(others) > 0 {
		notes = append(notes, fmt.Sprintf("the value's shape also fits %s", strings.Join(others, ", ")))
	}
	return strings.Join(notes, "; ")
}

// Parse detects the value's format within the source's formats and parses
// it. An unrecognised value parses to a Hash of FormatUnknown without error;
// a value that claims a format but breaks its rules is an error.
func (s Source) Parse(v Stored) (Hash, error) {
	h, _, err := s.parse(v)
	return h, err
}

func (s Source) parse(v Stored) (Hash, string, error) {
	if err := s.Validate(); err != nil {
		return Hash{}, "", err
	}
	f, note, err := s.Detect(v)
	if err != nil {
		return Hash{}, "", err
	}
	h, err := s.ParseAs(f, v)
	return h, note, err
}

// ParseAs parses a value as the given format, with no detection.
func (s Source) ParseAs(f Format, v Stored) (Hash, error) {
	lim := s.limits()
	var (
		h   Hash
		err error
	)
	switch f {
	case FormatBcrypt:
		h, err = parseBcrypt(v.Value)
	case FormatMD5, FormatSHA1, FormatSHA256, FormatSHA512:
		h, err = s.parseDigest(f, v)
	case FormatIteratedDigest:
		h, err = s.parseIterated(v, lim)
	case FormatASPNetMembership:
		h, err = parseMembership(v)
	case FormatLDAP:
		h, err = parseLDAP(v.Value)
	case FormatDjangoPBKDF2:
		h, err = parseDjango(v.Value, lim)
	case FormatPasslibPBKDF2:
		h, err = parsePasslib(v.Value, lim)
	case FormatWerkzeugPBKDF2:
		h, err = parseWerkzeugPBKDF2(v.Value, lim)
	case FormatASPNetIdentity:
		h, err = parseASPNetIdentity(v.Value, lim)
	case FormatArgon2:
		h, err = parseArgon2(v.Value, lim)
	case FormatScrypt:
		h, err = parseScrypt(v.Value, lim)
	case FormatCrypt:
		h, err = parseCrypt(v.Value, lim)
	case FormatPlaintext:
		h, err = parsePlaintext(v.Value)
	case FormatUnknown:
		h = Hash{Format: FormatUnknown}
	default:
		return Hash{}, configErr("unknown format %q", f)
	}
	if err != nil {
		return Hash{}, err
	}
	if len(h.Salt) > lim.MaxKeyBytes || len(h.Sum) > lim.MaxKeyBytes {
		return Hash{}, tooCostly(f, "salt or hash longer than %d bytes", lim.MaxKeyBytes)
	}
	h.Peppered = s.Pepper
	return h, nil
}

func parseBcrypt(v string) (Hash, error) {
	const f = FormatBcrypt
	if strings.HasPrefix(strings.ToUpper(v), "{CRYPT}") {
		v = v[len("{CRYPT}"):]
	}
	if len(v) < 4 || v[0] != '$' || v[1] != '2' {
		return Hash{}, malformed(f, "does not start with $2a$, $2b$ or $2y$")
	}
	if v[2] == '$' || v[3] != '$' || !strings.ContainsRune("aby", rune(v[2])) {
		return Hash{}, malformed(f, "version %q is not one of $2a$, $2b$, $2y$ (others hash differently)", safePrefix(v, 4))
	}
	rest := v[4:]
	if len(rest) < 3 || rest[2] != '$' {
		return Hash{}, malformed(f, "the cost must be two digits followed by $")
	}
	cost, ok := atoiStrict(strings.TrimPrefix(rest[:2], "0"))
	if !ok {
		return Hash{}, malformed(f, "the cost is not a number")
	}
	if cost < 4 || cost > 31 {
		return Hash{}, malformed(f, "cost %d is outside bcrypt's range 4 to 31", cost)
	}
	body := rest[3:]
	if len(body) != 53 {
		return Hash{}, malformed(f, "salt and hash must be 53 characters after the cost, found %d", len(body))
	}
	if !isBcryptB64(body) {
		return Hash{}, malformed(f, "salt or hash has characters outside bcrypt's alphabet ./A-Za-z0-9")
	}
	salt, sum := body[:22], body[22:]
	if !bcryptCanonicalLast(salt, ".Oeu") {
		return Hash{}, malformed(f, "the 22nd salt character carries stray bits (must be one of . O e u)")
	}
	if !bcryptCanonicalLast(sum, ".CGKOSWaeimquy26") {
		return Hash{}, malformed(f, "the last hash character carries stray bits")
	}
	return Hash{Format: f, Scheme: v[:4], Cost: cost, Salt: []byte(salt), Sum: []byte(sum), encoded: v[:4] + rest[:3] + body}, nil
}

func safePrefix(s string, n int) string {
	if len(s) < n {
		n = len(s)
	}
	if !utf8.ValidString(s[:n]) {
		return "?"
	}
	return s[:n]
}

// saltBytes turns a stored salt into the hashed bytes.
func (s Source) saltBytes(f Format, salt string) ([]byte, error) {
	if salt == "" {
		return nil, nil
	}
	switch s.SaltEncoding {
	case SaltText:
		return []byte(salt), nil
	case SaltBase64:
		b, ok := decodeBase64(salt)
		if !ok {
			return nil, malformed(f, "the salt is not valid base64 (the source says salts are base64)")
		}
		return b, nil
	case SaltHex:
		b, ok := decodeHex(salt)
		if !ok {
			return nil, malformed(f, "the salt is not valid hex (the source says salts are hex)")
		}
		return b, nil
	}
	return nil, configErr("values have a salt but the source does not say how it is encoded (salt encoding text, base64 or hex)")
}

func (s Source) saltAndOrder(f Format, salt string) ([]byte, string, error) {
	b, err := s.saltBytes(f, salt)
	if err != nil || len(b) == 0 {
		return nil, "", err
	}
	if s.SaltOrder == "" {
		return nil, "", configErr("values have a salt but the source does not say whether it goes before (PREFIX) or after (POSTFIX) the password")
	}
	return b, s.SaltOrder, nil
}

func (s Source) parseDigest(f Format, v Stored) (Hash, error) {
	d, _ := digestByName(digestFormat[f])
	if isHex(v.Value) && len(v.Value) != 2*d.size && len(v.Value) != base64.StdEncoding.EncodedLen(d.size) &&
		len(v.Value) != base64.RawStdEncoding.EncodedLen(d.size) {
		return Hash{}, malformed(f, "the digest is %d hex characters, %s gives %d", len(v.Value), d.name, 2*d.size)
	}
	sum, ok := digestBytes(v.Value)
	if !ok {
		return Hash{}, malformed(f, "the digest is neither hex nor base64")
	}
	if len(sum) != d.size {
		return Hash{}, malformed(f, "the digest is %d bytes, %s gives %d", len(sum), d.name, d.size)
	}
	salt, order, err := s.saltAndOrder(f, v.Salt)
	if err != nil {
		return Hash{}, err
	}
	return Hash{Format: f, Digest: d.name, Salt: salt, SaltOrder: order, Sum: sum}, nil
}

func (s Source) parseIterated(v Stored, lim Limits) (Hash, error) {
	const f = FormatIteratedDigest
	sum, ok := digestBytes(v.Value)
	if !ok {
		return Hash{}, malformed(f, "the digest is neither hex nor base64")
	}
	var d digestAlg
	for _, c := range digestAlgs {
		if c.size == len(sum) {
			d = c
		}
	}
	if d.name == "" {
		return Hash{}, malformed(f, "a %d-byte digest matches no digest algorithm", len(sum))
	}
	if s.Iterations < 2 {
		return Hash{}, configErr("an iterated digest needs the source's iterations (at least 2)")
	}
	if s.Iterations > lim.MaxIterations {
		return Hash{}, tooCostly(f, "%d iterations exceed the limit of %d", s.Iterations, lim.MaxIterations)
	}
	salt, order, err := s.saltAndOrder(f, v.Salt)
	if err != nil {
		return Hash{}, err
	}
	return Hash{Format: f, Digest: d.name, Salt: salt, SaltOrder: order, Sum: sum, Iterations: s.Iterations}, nil
}

func parseMembership(v Stored) (Hash, error) {
	const f = FormatASPNetMembership
	sum, ok := decodeBase64(v.Value)
	if !ok {
		return Hash{}, malformed(f, "the hash is not valid base64")
	}
	var d digestAlg
	switch len(sum) {
	case 20:
		d, _ = digestByName(okta.AlgorithmSHA1)
	case 32:
		d, _ = digestByName(okta.AlgorithmSHA256)
	case 64:
		d, _ = digestByName(okta.AlgorithmSHA512)
	default:
		return Hash{}, malformed(f, "the hash is %d bytes; SHA-1, SHA-256 or SHA-512 give 20, 32 or 64", len(sum))
	}
	if v.Salt == "" {
		return Hash{}, malformed(f, "the value has no salt (PasswordSalt is empty)")
	}
	salt, ok := decodeBase64(v.Salt)
	if !ok {
		return Hash{}, malformed(f, "the salt is not valid base64")
	}
	return Hash{Format: f, Digest: d.name, Salt: salt, SaltOrder: okta.SaltPrefix, Sum: sum}, nil
}

// ldapSchemes maps an RFC 2307 scheme to its digest and whether a salt
// follows the digest inside the base64.
var ldapSchemes = map[string]struct {
	digest string
	salted bool
}{
	"SHA": {okta.AlgorithmSHA1, false}, "SSHA": {okta.AlgorithmSHA1, true},
	"SHA1": {okta.AlgorithmSHA1, false}, "SSHA1": {okta.AlgorithmSHA1, true},
	"SHA256": {okta.AlgorithmSHA256, false}, "SSHA256": {okta.AlgorithmSHA256, true},
	"SHA384": {algSHA384, false}, "SSHA384": {algSHA384, true},
	"SHA512": {okta.AlgorithmSHA512, false}, "SSHA512": {okta.AlgorithmSHA512, true},
	"MD5": {okta.AlgorithmMD5, false}, "SMD5": {okta.AlgorithmMD5, true},
}

func parseLDAP(v string) (Hash, error) {
	const f = FormatLDAP
	end := strings.IndexByte(v, '}')
	if !strings.HasPrefix(v, "{") || end < 0 {
		return Hash{}, malformed(f, "an LDAP value must start with {SCHEME}")
	}
	name := strings.ToUpper(v[1:end])
	scheme, ok := ldapSchemes[name]
	if !ok {
		if len(name) > 20 || !utf8.ValidString(name) {
			name = "?"
		}
		return Hash{Format: FormatUnknown, Scheme: "{" + name + "}"}, nil
	}
	raw, ok := decodeBase64(v[end+1:])
	if !ok {
		return Hash{}, malformed(f, "{%s}: the value after the scheme is not valid base64", name)
	}
	d, _ := digestByName(scheme.digest)
	h := Hash{Format: f, Scheme: "{" + name + "}", Digest: d.name}
	switch {
	case !scheme.salted && len(raw) != d.size:
		return Hash{}, malformed(f, "{%s}: the digest is %d bytes, %s gives %d", name, len(raw), d.name, d.size)
	case scheme.salted && len(raw) <= d.size:
		return Hash{}, malformed(f, "{%s}: %d bytes leave no salt after the %d-byte digest", name, len(raw), d.size)
	case scheme.salted:
		h.Sum, h.Salt, h.SaltOrder = raw[:d.size], raw[d.size:], okta.SaltPostfix
	default:
		h.Sum = raw
	}
	return h, nil
}

// pbkdf2Digest maps the names the formats use for their PRF.
func pbkdf2Digest(f Format, name string) (digestAlg, error) {
	switch strings.ToLower(name) {
	case "sha1", "pbkdf2", "pbkdf2-sha1", "pbkdf2_sha1":
		d, _ := digestByName(okta.AlgorithmSHA1)
		return d, nil
	case "sha256", "pbkdf2-sha256", "pbkdf2_sha256":
		d, _ := digestByName(okta.AlgorithmSHA256)
		return d, nil
	case "sha512", "pbkdf2-sha512", "pbkdf2_sha512":
		d, _ := digestByName(okta.AlgorithmSHA512)
		return d, nil
	}
	if len(name) > 20 || !utf8.ValidString(name) {
		name = "?"
	}
	return digestAlg{}, malformed(f, "unsupported PBKDF2 digest %q", name)
}

func iterations(f Format, s string, lim Limits) (int, error) {
	n, ok := atoiStrict(s)
	if !ok || n < 1 {
		return 0, malformed(f, "the iteration count is not a positive number")
	}
	if n > lim.MaxIterations {
		return 0, tooCostly(f, "%d iterations exceed the limit of %d", n, lim.MaxIterations)
	}
	return n, nil
}

func parseDjango(v string, lim Limits) (Hash, error) {
	const f = FormatDjangoPBKDF2
	parts := strings.Split(v, "$")
	if len(parts) != 4 {
		return Hash{}, malformed(f, "expected algorithm$iterations$salt$hash, found %d fields", len(parts))
	}
	d, err := pbkdf2Digest(f, parts[0])
	if err != nil {
		return Hash{}, err
	}
	n, err := iterations(f, parts[1], lim)
	if err != nil {
		return Hash{}, err
	}
	if parts[2] == "" {
		return Hash{}, malformed(f, "the salt is empty")
	}
	sum, ok := decodeBase64(parts[3])
	if !ok {
		return Hash{}, malformed(f, "the hash is not valid base64")
	}
	if len(sum) != d.size {
		return Hash{}, malformed(f, "the hash is %d bytes, %s gives %d", len(sum), d.name, d.size)
	}
	// Django hashes the salt's text.
	return Hash{Format: f, Scheme: parts[0], Digest: d.name, Salt: []byte(parts[2]), Sum: sum, Iterations: n}, nil
}

func parsePasslib(v string, lim Limits) (Hash, error) {
	const f = FormatPasslibPBKDF2
	parts := strings.Split(v, "$")
	if len(parts) != 5 || parts[0] != "" {
		return Hash{}, malformed(f, "expected $pbkdf2-sha256$rounds$salt$hash, found %d fields", len(parts)-1)
	}
	d, err := pbkdf2Digest(f, parts[1])
	if err != nil {
		return Hash{}, err
	}
	n, err := iterations(f, parts[2], lim)
	if err != nil {
		return Hash{}, err
	}
	salt, ok := decodeAB64(parts[3])
	if !ok {
		return Hash{}, malformed(f, "the salt is not passlib base64 (./A-Za-z0-9, no padding)")
	}
	sum, ok := decodeAB64(parts[4])
	if !ok {
		return Hash{}, malformed(f, "the hash is not passlib base64 (./A-Za-z0-9, no padding)")
	}
	if len(sum) != d.size {
		return Hash{}, malformed(f, "the hash is %d bytes, %s gives %d", len(sum), d.name, d.size)
	}
	return Hash{Format: f, Scheme: "$" + parts[1] + "$", Digest: d.name, Salt: salt, Sum: sum, Iterations: n}, nil
}

func parseWerkzeugPBKDF2(v string, lim Limits) (Hash, error) {
	const f = FormatWerkzeugPBKDF2
	parts := strings.Split(v, "$")
	if len(parts) != 3 {
		return Hash{}, malformed(f, "expected pbkdf2:digest:iterations$salt$hash, found %d fields", len(parts))
	}
	method := strings.Split(parts[0], ":")
	if len(method) != 3 {
		return Hash{}, malformed(f, "the method must say pbkdf2:digest:iterations (Werkzeug's default iterations vary by version)")
	}
	d, err := pbkdf2Digest(f, method[1])
	if err != nil {
		return Hash{}, err
	}
	n, err := iterations(f, method[2], lim)
	if err != nil {
		return Hash{}, err
	}
	if parts[1] == "" {
		return Hash{}, malformed(f, "the salt is empty")
	}
	sum, ok := decodeHex(parts[2])
	if !ok {
		return Hash{}, malformed(f, "the hash is not valid hex")
	}
	if len(sum) != d.size {
		return Hash{}, malformed(f, "the hash is %d bytes, %s gives %d", len(sum), d.name, d.size)
	}
	return Hash{Format: f, Scheme: "pbkdf2:" + method[1], Digest: d.name, Salt: []byte(parts[1]), Sum: sum, Iterations: n}, nil
}

func parseASPNetIdentity(v string, lim Limits) (Hash, error) {
	const f = FormatASPNetIdentity
	b, ok := decodeBase64(v)
	if !ok || len(b) == 0 {
		return Hash{}, malformed(f, "the value is not valid base64")
	}
	switch b[0] {
	case 0x00:
		// v2: PBKDF2-HMAC-SHA1, 1000 iterations, 16-byte salt, 32-byte subkey.
		if len(b) != 49 {
			return Hash{}, malformed(f, "a v2 hash is 49 bytes, found %d", len(b))
		}
		d, _ := digestByName(okta.AlgorithmSHA1)
		return Hash{Format: f, Scheme: "v2", Digest: d.name, Salt: b[1:17], Sum: b[17:], Iterations: 1000}, nil
	case 0x01:
		if len(b) < 13 {
			return Hash{}, malformed(f, "a v3 hash is truncated: %d bytes, the header alone is 13", len(b))
		}
		var d digestAlg
		switch prf := binary.BigEndian.Uint32(b[1:5]); prf {
		case 0:
			d, _ = digestByName(okta.AlgorithmSHA1)
		case 1:
			d, _ = digestByName(okta.AlgorithmSHA256)
		case 2:
			d, _ = digestByName(okta.AlgorithmSHA512)
		default:
			return Hash{}, malformed(f, "unknown PRF %d (0 HMACSHA1, 1 HMACSHA256, 2 HMACSHA512)", prf)
		}
		iter := binary.BigEndian.Uint32(b[5:9])
		if iter < 1 {
			return Hash{}, malformed(f, "the iteration count is zero")
		}
		if uint64(iter) > uint64(lim.MaxIterations) {
			return Hash{}, tooCostly(f, "%d iterations exceed the limit of %d", iter, lim.MaxIterations)
		}
		saltLen := binary.BigEndian.Uint32(b[9:13])
		if saltLen < 16 {
			return Hash{}, malformed(f, "the salt is %d bytes, ASP.NET Identity requires at least 16", saltLen)
		}
		if uint64(saltLen)+13 > uint64(len(b)) {
			return Hash{}, malformed(f, "the salt length %d runs past the end of the %d-byte value", saltLen, len(b))
		}
		sub := b[13+saltLen:]
		if len(sub) < 16 {
			return Hash{}, malformed(f, "the subkey is %d bytes, ASP.NET Identity requires at least 16", len(sub))
		}
		return Hash{Format: f, Scheme: "v3", Digest: d.name, Salt: b[13 : 13+saltLen], Sum: sub, Iterations: int(iter)}, nil
	}
	return Hash{}, malformed(f, "unknown format marker 0x%02x (0x00 v2, 0x01 v3)", b[0])
}

// phcParams parses "k=v,k=v" with numeric values.
func phcParams(f Format, s string, keys ...string) (map[string]int, error) {
	out := map[string]int{}
	for _, kv := range strings.Split(s, ",") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, malformed(f, "parameter list is not key=value pairs")
		}
		if !containsString(keys, k) {
			if len(k) > 10 || !utf8.ValidString(k) {
				k = "?"
			}
			return nil, cannotVerify(f, "parameter %q is not supported", k)
		}
		if _, dup := out[k]; dup {
			return nil, malformed(f, "parameter %q appears twice", k)
		}
		n, ok := atoiStrict(val)
		if !ok {
			return nil, malformed(f, "parameter %s is not a number", k)
		}
		out[k] = n
	}
	for _, k := range keys {
		if _, ok := out[k]; !ok {
			return nil, malformed(f, "parameter %s is missing", k)
		}
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseArgon2(v string, lim Limits) (Hash, error) {
	const f = FormatArgon2
	if strings.HasPrefix(strings.ToUpper(v), "{ARGON2}") {
		v = v[len("{ARGON2}"):]
	}
	v = strings.TrimPrefix(v, "argon2") // Django's prefix: argon2$argon2id$…
	parts := strings.Split(v, "$")
	if parts[0] != "" || len(parts) < 2 {
		return Hash{}, malformed(f, "expected $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	variant := parts[1]
	switch variant {
	case "argon2id", "argon2i", "argon2d":
	default:
		return Hash{}, malformed(f, "unknown variant (argon2id, argon2i or argon2d)")
	}
	version := 0x10
	rest := parts[2:]
	if len(rest) > 0 && strings.HasPrefix(rest[0], "v=") {
		n, ok := atoiStrict(rest[0][2:])
		if !ok {
			return Hash{}, malformed(f, "the version is not a number")
		}
		version = n
		rest = rest[1:]
	}
	if len(rest) != 3 {
		return Hash{}, malformed(f, "expected $%s$v=19$m=…,t=…,p=…$salt$hash", variant)
	}
	p, err := phcParams(f, rest[0], "m", "t", "p")
	if err != nil {
		return Hash{}, err
	}
	if p["p"] < 1 || p["p"] > 255 {
		return Hash{}, malformed(f, "parallelism %d is outside 1 to 255", p["p"])
	}
	if p["t"] < 1 {
		return Hash{}, malformed(f, "time cost must be at least 1")
	}
	if p["t"] > lim.MaxArgon2Time {
		return Hash{}, tooCostly(f, "time cost %d exceeds the limit of %d", p["t"], lim.MaxArgon2Time)
	}
	if p["m"] < 8*p["p"] {
		return Hash{}, malformed(f, "memory %d KiB is below 8 KiB per lane", p["m"])
	}
	if int64(p["m"])*1024 > lim.MaxMemoryBytes {
		return Hash{}, tooCostly(f, "memory %d KiB exceeds the limit of %d KiB", p["m"], lim.MaxMemoryBytes/1024)
	}
	if err := argon2Work(p["t"], p["m"], lim); err != nil {
		return Hash{}, err
	}
	salt, ok := decodeBase64(rest[1])
	if !ok {
		return Hash{}, malformed(f, "the salt is not valid base64")
	}
	if len(salt) < 8 {
		return Hash{}, malformed(f, "the salt is %d bytes, argon2 requires at least 8", len(salt))
	}
	sum, ok := decodeBase64(rest[2])
	if !ok {
		return Hash{}, malformed(f, "the hash is not valid base64")
	}
	if len(sum) < 4 {
		return Hash{}, malformed(f, "the hash is %d bytes, argon2 gives at least 4", len(sum))
	}
	return Hash{Format: f, Scheme: fmt.Sprintf("%s v=%d", variant, version), Salt: salt, Sum: sum,
		Iterations: p["t"], MemoryKiB: uint32(p["m"]), Threads: uint8(p["p"])}, nil
}

func scryptBounds(f Format, n, r, p int, lim Limits) error {
	if n < 2 || n&(n-1) != 0 {
		return malformed(f, "N must be a power of two above 1")
	}
	if r < 1 || p < 1 {
		return malformed(f, "r and p must be at least 1")
	}
	if uint64(r)*uint64(p) >= 1<<30 {
		return malformed(f, "r·p must be below 2^30")
	}
	mem := 128*uint64(r)*uint64(n) + 128*uint64(r)*uint64(p)
	if mem > uint64(lim.MaxMemoryBytes) || n > 1<<30 {
		return tooCostly(f, "N=%d, r=%d, p=%d need more than the %d MiB limit", n, r, p, lim.MaxMemoryBytes>>20)
	}
	// Time grows with N·r·p: bound the memory passes as well as the memory.
	if work := 128 * uint64(n) * uint64(r) * uint64(p); work > 4*uint64(lim.MaxMemoryBytes) {
		return tooCostly(f, "N=%d, r=%d, p=%d would process more than %d MiB", n, r, p, 4*lim.MaxMemoryBytes>>20)
	}
	return nil
}

func parseScrypt(v string, lim Limits) (Hash, error) {
	const f = FormatScrypt
	switch {
	case strings.HasPrefix(v, "$7$"):
		return Hash{Format: FormatUnknown, Scheme: "scrypt $7$"}, nil
	case strings.HasPrefix(v, "scrypt:"):
		// Werkzeug: scrypt:N:r:p$salt$hex, the salt's text hashed, 64-byte key.
		parts := strings.Split(v, "$")
		if len(parts) != 3 {
			return Hash{}, malformed(f, "expected scrypt:N:r:p$salt$hash, found %d fields", len(parts))
		}
		m := strings.Split(parts[0], ":")
		if len(m) != 4 {
			return Hash{}, malformed(f, "the method must say scrypt:N:r:p")
		}
		var nrp [3]int
		for i, s := range m[1:] {
			n, ok := atoiStrict(s)
			if !ok {
				return Hash{}, malformed(f, "N, r and p must be numbers")
			}
			nrp[i] = n
		}
		if err := scryptBounds(f, nrp[0], nrp[1], nrp[2], lim); err != nil {
			return Hash{}, err
		}
		if parts[1] == "" {
			return Hash{}, malformed(f, "the salt is empty")
		}
		sum, ok := decodeHex(parts[2])
		if !ok {
			return Hash{}, malformed(f, "the hash is not valid hex")
		}
		if len(sum) < 16 {
			return Hash{}, malformed(f, "the hash is %d bytes, too short", len(sum))
		}
		return Hash{Format: f, Scheme: "werkzeug scrypt", Salt: []byte(parts[1]), Sum: sum, N: nrp[0], R: nrp[1], P: nrp[2]}, nil
	}
	// passlib: $scrypt$ln=…,r=…,p=…$salt$hash, salt and hash unpadded base64.
	parts := strings.Split(v, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "scrypt" {
		return Hash{}, malformed(f, "expected $scrypt$ln=…,r=…,p=…$salt$hash")
	}
	p, err := phcParams(f, parts[2], "ln", "r", "p")
	if err != nil {
		return Hash{}, err
	}
	if p["ln"] < 1 || p["ln"] > 30 {
		return Hash{}, tooCostly(f, "ln=%d is outside 1 to 30", p["ln"])
	}
	n := 1 << p["ln"]
	if err := scryptBounds(f, n, p["r"], p["p"], lim); err != nil {
		return Hash{}, err
	}
	salt, ok := decodeAB64(parts[3])
	if !ok {
		return Hash{}, malformed(f, "the salt is not unpadded base64")
	}
	sum, ok := decodeAB64(parts[4])
	if !ok {
		return Hash{}, malformed(f, "the hash is not unpadded base64")
	}
	if len(sum) < 16 {
		return Hash{}, malformed(f, "the hash is %d bytes, too short", len(sum))
	}
	return Hash{Format: f, Scheme: "passlib scrypt", Salt: salt, Sum: sum, N: n, R: p["r"], P: p["p"]}, nil
}

func parseCrypt(v string, lim Limits) (Hash, error) {
	const f = FormatCrypt
	if strings.HasPrefix(strings.ToUpper(v), "{CRYPT}") {
		v = v[len("{CRYPT}"):]
	}
	var id string
	switch {
	case strings.HasPrefix(v, "$1$"):
		id = "$1$"
	case strings.HasPrefix(v, "$5$"):
		id = "$5$"
	case strings.HasPrefix(v, "$6$"):
		id = "$6$"
	default:
		scheme := "traditional DES or another crypt(3) scheme"
		if strings.HasPrefix(v, "$") {
			if end := strings.IndexByte(v[1:], '$'); end >= 0 && end < 8 && utf8.ValidString(v[:end+2]) {
				scheme = v[:end+2]
			}
		}
		return Hash{Format: FormatUnknown, Scheme: "crypt " + scheme}, nil
	}
	rest := v[3:]
	h := Hash{Format: f, Scheme: id, encoded: v}
	if id != "$1$" {
		h.Iterations = 5000
		if strings.HasPrefix(rest, "rounds=") {
			end := strings.IndexByte(rest, '$')
			if end < 0 {
				return Hash{}, malformed(f, "rounds= is not followed by $")
			}
			n, ok := atoiStrict(rest[len("rounds="):end])
			if !ok {
				return Hash{}, malformed(f, "rounds is not a number")
			}
			if n < 1000 || n > 999_999_999 {
				return Hash{}, malformed(f, "rounds %d is outside SHA-crypt's 1000 to 999999999", n)
			}
			if n > lim.MaxIterations {
				return Hash{}, tooCostly(f, "%d rounds exceed the limit of %d", n, lim.MaxIterations)
			}
			h.Iterations, h.roundsSet = n, true
			rest = rest[end+1:]
		}
	}
	salt, sum, ok := strings.Cut(rest, "$")
	if !ok {
		return Hash{}, malformed(f, "%s: no $ between salt and hash", id)
	}
	maxSalt, sumLen := 16, 43
	switch id {
	case "$1$":
		maxSalt, sumLen = 8, 22
		h.Digest = okta.AlgorithmMD5
	case "$5$":
		h.Digest = okta.AlgorithmSHA256
	case "$6$":
		sumLen = 86
		h.Digest = okta.AlgorithmSHA512
	}
	if len(salt) > maxSalt {
		return Hash{}, malformed(f, "%s: the salt is %d characters, at most %d", id, len(salt), maxSalt)
	}
	if strings.ContainsAny(salt, ":\n") {
		return Hash{}, malformed(f, "%s: the salt has characters crypt(3) does not allow", id)
	}
	if len(sum) != sumLen {
		return Hash{}, malformed(f, "%s: the hash is %d characters, expected %d", id, len(sum), sumLen)
	}
	if !isCryptB64(sum) {
		return Hash{}, malformed(f, "%s: the hash has characters outside crypt's alphabet ./0-9A-Za-z", id)
	}
	h.Salt, h.Sum = []byte(salt), []byte(sum)
	return h, nil
}

func parsePlaintext(v string) (Hash, error) {
	if strings.HasPrefix(strings.ToUpper(v), "{CLEARTEXT}") {
		v = v[len("{CLEARTEXT}"):]
	}
	if v == "" {
		return Hash{}, malformed(FormatPlaintext, "the password is empty")
	}
	return Hash{Format: FormatPlaintext, Sum: []byte(v)}, nil
}

// argon2Work bounds time × memory, so that many passes over a large memory
// cannot stall a worker: at most four passes over the memory limit.
func argon2Work(t, mKiB int, lim Limits) error {
	if int64(t)*int64(mKiB)*1024 > 4*lim.MaxMemoryBytes {
		return tooCostly(FormatArgon2, "time cost %d over %d KiB would process more than %d MiB", t, mKiB, 4*lim.MaxMemoryBytes>>20)
	}
	return nil
}
