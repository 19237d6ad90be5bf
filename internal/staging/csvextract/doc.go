// Package csvextract reads CSV extracts of users as a stream of
// extract.Records, one per row, keyed by the header's column names.
//
// What it accepts:
//
//   - Encodings: UTF-8 with or without a byte-order mark, UTF-16 LE or BE
//     with a byte-order mark (converted), and Windows-1252 (converted, with
//     the warning "converted from Windows-1252"); see "Encodings" below.
//   - The delimiter is detected from the header line: the one of , ; TAB |
//     that occurs most often outside quotes (ties go in that order; none at
//     all is a one-column file). Options.Delimiter forces one.
//   - RFC 4180 quoting: a field that starts with a double quote runs to the
//     next lone double quote and may hold delimiters, doubled quotes ("")
//     and newlines; after its closing quote only a delimiter or the end of
//     the line may follow. A quote inside an unquoted field is kept as a
//     character (O"Brien, 5" floppy).
//   - Lines end in LF or CRLF. A record's Position is the line it starts on,
//     counting every line of the file (blank ones and those inside quoted
//     fields included). Blank lines between records are skipped.
//   - A header row is required: no empty or duplicate names. A file with a
//     header only has no records; a file with nothing but blank lines or a
//     byte-order mark is "the file is empty".
//   - Values are kept exactly as read: not trimmed, quoted newlines (CRLF
//     included) kept; only the line ending itself is dropped. CSV is
//     single-valued: each attribute holds one value, which may be empty,
//     unless Options.MultiValueSeparator splits it.
//
// What refuses the whole file (an *extract.Error naming the line): broken
// encoding, binary content, a quote left open at the end of the file (the
// line the field starts on), text after a closing quote, a field larger
// than Options.MaxFieldBytes or a row larger than Options.MaxRecordBytes
// (neither is ever buffered whole), header problems, and too many ragged
// rows. A ragged row (not as many fields as the header) is an
// *extract.RecordError and the reader goes on, unless ragged rows pass the
// limits of Options.MaxRaggedRatio and Options.MaxRaggedRows:
//
//   - MaxRaggedRows (when > 0) is decided at once: Next refuses the file as
//     soon as one more row than that is ragged.
//   - MaxRaggedRatio is the share of rows (ragged ones included) that may be
//     ragged. It is decided at the end of the file, where Next returns the
//     refusal instead of io.EOF, since rows still to come may dilute any
//     share. When Options.SizeHint gives the size of the input, Next refuses
//     earlier, as soon as the share is exceeded even if all the bytes left
//     were the shortest possible well-formed rows.
//
// # Encodings
//
// Decided on the stream, never by reading the whole file:
//
//   - A byte-order mark decides: EF BB BF is UTF-8 (the mark is dropped);
//     FF FE and FE FF are UTF-16 little and big endian, converted to UTF-8.
//     UTF-32 marks are refused by name.
//   - Without a mark, the text is plain ASCII until its first byte ≥ 0x80,
//     and ASCII reads the same in UTF-8 and Windows-1252, so nothing is
//     decided yet. The first non-ASCII byte decides, looking at the window
//     of up to 64 KiB that starts there: if that window is valid UTF-8 the
//     file is UTF-8; if it holds no valid multi-byte UTF-8 sequence at all
//     the file is Windows-1252 (converted, with the warning "converted from
//     Windows-1252"); if it mixes both it is read as UTF-8, so the first
//     invalid byte refuses the file. In a file of plain ASCII whose first
//     accented name is on line 5,000, line 5,000 decides.
//   - Once decided, the encoding holds: a byte invalid in it later refuses
//     the file with its line number ("broken encoding"); nothing read is
//     ever reinterpreted. Strict decoders: the five bytes Windows-1252 leaves
//     undefined, unpaired UTF-16 surrogates and a file ending in the middle
//     of a character are broken encodings too.
//   - "not a text file": a NUL byte (or a U+0000 character in UTF-16)
//     anywhere; the signature of a well-known binary format (PDF, ZIP and so
//     .xlsx, the old .xls, gzip, images) at the start; UTF-16 without a
//     byte-order mark; or control characters other than tab, LF, VT, FF
//     and CR (NUL aside) in more than 1% of the first 64 KiB. Elsewhere a
//     stray control character is data, kept as read.
//
// Refusals about the whole file ("the file is empty", too many ragged rows)
// have Position 0; the others name a line. Errors other than *extract.Error
// and *extract.RecordError are I/O errors from the underlying reader.
//
// # Memory and speed
//
// A Reader holds about 320 KiB of buffers (0.5 MiB when it converts), plus
// the largest row read so far, at most MaxRecordBytes, whatever the size of
// the file. Each record's values share one string allocated for it: records
// never alias the reader's buffers.
package csvextract
