package transform_test

import (
	"testing"
)

func dateDef(from, to string) string {
	return `[{"op":"date","from":` + quote(from) + `,"to":` + quote(to) + `}]`
}

func TestDateReformatsAcrossLayouts(t *testing.T) {
	runApplyCases(t, []applyCase{
		{name: "day first to ISO", def: dateDef("dd/mm/yyyy", "yyyy-mm-dd"), in: "31/12/2023", want: "2023-12-31"},
		{name: "day first with one-digit day and month", def: dateDef("dd/mm/yyyy", "yyyy-mm-dd"), in: "1/2/2023", want: "2023-02-01"},
		{name: "month first to ISO", def: dateDef("mm/dd/yyyy", "yyyy-mm-dd"), in: "12/31/2023", want: "2023-12-31"},
		{name: "month first one digit", def: dateDef("mm/dd/yyyy", "yyyy-mm-dd"), in: "2/1/2023", want: "2023-02-01"},
		{name: "ISO to German", def: dateDef("yyyy-mm-dd", "dd.mm.yyyy"), in: "2023-02-01", want: "01.02.2023"},
		{name: "German to US", def: dateDef("dd.mm.yyyy", "mm/dd/yyyy"), in: "1.2.2023", want: "02/01/2023"},
		{name: "dashes", def: dateDef("dd-mm-yyyy", "yyyy/mm/dd"), in: "31-12-2023", want: "2023/12/31"},
		{name: "compact to ISO", def: dateDef("yyyymmdd", "yyyy-mm-dd"), in: "20231231", want: "2023-12-31"},
		{name: "ISO to compact", def: dateDef("yyyy-mm-dd", "yyyymmdd"), in: "2024-02-29", want: "20240229"},
		{name: "names ignore case", def: dateDef("DD/MM/YYYY", "YYYY-MM-DD"), in: "31/12/2023", want: "2023-12-31"},
		{name: "surrounding white space", def: dateDef("dd/mm/yyyy", "yyyy-mm-dd"), in: " 31/12/2023 ", want: "2023-12-31"},
		{name: "empty stays empty", def: dateDef("dd/mm/yyyy", "yyyy-mm-dd"), in: "", want: ""},
		{name: "Go layouts", def: dateDef("Jan 2, 2006", "02 January 2006"), in: "Dec 31, 2023", want: "31 December 2023"},

		{name: "RFC 3339 to date keeps its own day", def: dateDef("rfc3339", "yyyy-mm-dd"), in: "2023-12-31T23:59:59+01:00", want: "2023-12-31"},
		{name: "RFC 3339 with fraction", def: dateDef("rfc3339", "rfc3339"), in: "2023-12-31T23:59:59.123456Z", want: "2023-12-31T23:59:59Z"},
		{name: "date to RFC 3339 is midnight UTC", def: dateDef("yyyy-mm-dd", "rfc3339"), in: "2023-12-31", want: "2023-12-31T00:00:00Z"},

		{name: "AD generalized time to RFC 3339", def: dateDef("ad_generalized", "rfc3339"), in: "20231231235959.0Z", want: "2023-12-31T23:59:59Z"},
		{name: "AD generalized time without fraction", def: dateDef("ad_generalized", "yyyy-mm-dd"), in: "20231231235959Z", want: "2023-12-31"},
		{name: "AD generalized time with an offset", def: dateDef("ad_generalized", "rfc3339"), in: "20231231235959.5+0100", want: "2023-12-31T23:59:59+01:00"},
		{name: "to AD generalized time in UTC", def: dateDef("rfc3339", "ad_generalized"), in: "2024-01-01T00:30:00+01:00", want: "20231231233000.0Z"},
		{name: "date to AD generalized time", def: dateDef("dd/mm/yyyy", "ad_generalized"), in: "31/12/2023", want: "20231231000000.0Z"},

		{name: "AD file time to RFC 3339", def: dateDef("ad_filetime", "rfc3339"), in: "133485408000000000", want: "2024-01-01T00:00:00Z"},
		{name: "AD file time to date", def: dateDef("ad_filetime", "yyyy-mm-dd"), in: "133485407999999999", want: "2023-12-31"},
		{name: "AD file time 0 means never", def: dateDef("ad_filetime", "yyyy-mm-dd"), in: "0", want: ""},
		{name: "AD file time max means never", def: dateDef("ad_filetime", "yyyy-mm-dd"), in: "9223372036854775807", want: ""},
		{name: "AD file time epoch", def: dateDef("ad_filetime", "rfc3339"), in: "1", want: "1601-01-01T00:00:00Z"},
		{name: "date to AD file time", def: dateDef("yyyy-mm-dd", "ad_filetime"), in: "2024-01-01", want: "133485408000000000"},
		{name: "AD generalized to AD file time", def: dateDef("ad_generalized", "ad_filetime"), in: "19700101000000.0Z", want: "116444736000000000"},

		{name: "unix to RFC 3339", def: dateDef("unix", "rfc3339"), in: "1704067200", want: "2024-01-01T00:00:00Z"},
		{name: "unix epoch", def: dateDef("unix", "yyyy-mm-dd"), in: "0", want: "1970-01-01"},
		{name: "negative unix", def: dateDef("unix", "yyyy-mm-dd"), in: "-86400", want: "1969-12-31"},
		{name: "RFC 3339 to unix", def: dateDef("rfc3339", "unix"), in: "2023-12-31T23:59:59+01:00", want: "1704063599"},
		{name: "unix milliseconds", def: dateDef("unix_ms", "rfc3339"), in: "1704067200123", want: "2024-01-01T00:00:00Z"},
		{name: "to unix milliseconds", def: dateDef("yyyy-mm-dd", "unix_ms"), in: "2024-01-01", want: "1704067200000"},
	})
}

func TestDateRefusesValuesThatAreNotDates(t *testing.T) {
	runApplyCases(t, []applyCase{
		{name: "day first read as month first", def: dateDef("mm/dd/yyyy", "yyyy-mm-dd"), in: "31/12/2023", wantErr: "step 1 (date): not a date in the form mm/dd/yyyy"},
		{name: "31 February", def: dateDef("yyyy-mm-dd", "dd/mm/yyyy"), in: "2023-02-31", wantErr: "not a date in the form yyyy-mm-dd"},
		{name: "29 February in a common year", def: dateDef("yyyy-mm-dd", "dd/mm/yyyy"), in: "2023-02-29", wantErr: "not a date"},
		{name: "two-digit year", def: dateDef("dd/mm/yyyy", "yyyy-mm-dd"), in: "31/12/23", wantErr: "not a date"},
		{name: "words", def: dateDef("dd/mm/yyyy", "yyyy-mm-dd"), in: "yesterday", wantErr: "not a date"},
		{name: "trailing text", def: dateDef("yyyy-mm-dd", "yyyymmdd"), in: "2023-12-31 extra", wantErr: "not a date"},
		{name: "AD generalized time without zone", def: dateDef("ad_generalized", "rfc3339"), in: "20231231235959.0", wantErr: "not a date in the form ad_generalized"},
		{name: "AD generalized time 30 February", def: dateDef("ad_generalized", "rfc3339"), in: "20230230000000.0Z", wantErr: "not a date"},
		{name: "AD generalized time too short", def: dateDef("ad_generalized", "rfc3339"), in: "2023123123595Z", wantErr: "not a date"},
		{name: "AD file time not a number", def: dateDef("ad_filetime", "rfc3339"), in: "13348540800000000x", wantErr: "not a date in the form ad_filetime"},
		{name: "AD file time negative", def: dateDef("ad_filetime", "rfc3339"), in: "-1", wantErr: "not a date"},
		{name: "AD file time too large", def: dateDef("ad_filetime", "rfc3339"), in: "99999999999999999999", wantErr: "not a date"},
		{name: "before 1601 to AD file time", def: dateDef("yyyy-mm-dd", "ad_filetime"), in: "1600-12-31", wantErr: "before 1601"},
		{name: "unix out of range", def: dateDef("unix", "rfc3339"), in: "999999999999999", wantErr: "not a date in the form unix"},
		{name: "unix with a fraction", def: dateDef("unix", "rfc3339"), in: "1704067200.5", wantErr: "not a date"},
		{name: "unix year after 9999 in seconds", def: dateDef("unix", "rfc3339"), in: "253402300800", wantErr: "not a date"},
	})
}
