package attrjson

import (
	"encoding/json"
	"testing"
)

// benchRecord is a realistic staged directory user: 20 attributes, accented
// names and addresses, several multi-valued attributes.
func benchRecord() map[string][]string {
	return map[string][]string{
		"cn":                {"Ana-Lucía Fernández Ørsted"},
		"givenName":         {"Ana-Lucía"},
		"sn":                {"Fernández Ørsted"},
		"displayName":       {"Fernández Ørsted, Ana-Lucía (Finance & Controlling)"},
		"mail":              {"ana-lucia.fernandez@example.com"},
		"proxyAddresses":    {"SMTP:ana-lucia.fernandez@example.com", "smtp:a.fernandez@example.de", "smtp:afernandez@corp.example.com"},
		"userPrincipalName": {"a.fernandez@corp.example.com"},
		"sAMAccountName":    {"afernandez"},
		"employeeID":        {"000482917"},
		"title":             {"Responsable Contrôle de Gestion"},
		"department":        {"Finance & Controlling"},
		"company":           {"Société Générale d'Équipements SA"},
		"telephoneNumber":   {"+33 3 81 25 46 90"},
		"mobile":            {"+33 6 12 34 56 78"},
		"streetAddress":     {"12 rue de la Fédération\nBâtiment C, 3ᵉ étage"},
		"l":                 {"Besançon"},
		"postalCode":        {"25000"},
		"co":                {"France"},
		"manager":           {"CN=Müller\\, Jürgen,OU=Führungskräfte,OU=Users,DC=corp,DC=example,DC=com"},
		"memberOf": {
			"CN=GG-Finance-Controlling,OU=Groups,DC=corp,DC=example,DC=com",
			"CN=GG-All-Staff-France,OU=Groups,DC=corp,DC=example,DC=com",
			"CN=APP-SAP-FI-Read,OU=Applications,DC=corp,DC=example,DC=com",
			"CN=APP-Tableau-Viewer,OU=Applications,DC=corp,DC=example,DC=com",
			"CN=VPN-Users,OU=Network,DC=corp,DC=example,DC=com",
			"CN=Besançon-Site,OU=Sites,DC=corp,DC=example,DC=com",
		},
	}
}

func BenchmarkAppend(b *testing.B) {
	m := benchRecord()
	size := len(Append(nil, m))
	b.Run("attrjson", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(size))
		buf := make([]byte, 0, 2*size)
		for b.Loop() {
			buf = Append(buf[:0], m)
		}
	})
	b.Run("attrjson-nil-dst", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(size))
		for b.Loop() {
			_ = Append(nil, m)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(size))
		for b.Loop() {
			if _, err := json.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data := Append(nil, benchRecord())
	b.Run("attrjson", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var m map[string][]string
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
