package transform

// Internals the black-box tests check directly: the embedded tables and the
// name normalisation they are keyed by.

// NormalizeCountry exposes normalizeCountry.
var NormalizeCountry = normalizeCountry

// CountryKeys returns the normalised country keys and their alpha-2 codes.
func CountryKeys() [][2]string {
	out := make([][2]string, len(countryKeys))
	for i, k := range countryKeys {
		out[i] = [2]string{k.key, k.alpha2}
	}
	return out
}

// ISOCountries returns ISO 3166-1 as alpha-2, alpha-3, numeric and name.
func ISOCountries() [][4]string {
	out := make([][4]string, len(isoCountries))
	for i, c := range isoCountries {
		out[i] = [4]string{c.alpha2, c.alpha3, c.numeric, c.name}
	}
	return out
}

// CountryVariants returns the hand-written country names and their codes.
func CountryVariants() [][2]string {
	out := make([][2]string, len(countryVariants))
	for i, v := range countryVariants {
		out[i] = [2]string{v.key, v.alpha2}
	}
	return out
}

// CallingCodes returns the known country calling codes.
func CallingCodes() []string { return append([]string(nil), callingCodes[:]...) }
