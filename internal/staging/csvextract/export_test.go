package csvextract

// SetBufferSizes sets the parser's buffer and the decoder's window (0 keeps
// one) and returns a function that restores them. Tests use small sizes to
// reach the paths long lines and chunk boundaries take.
func SetBufferSizes(parse, window int) (restore func()) {
	oldParse, oldWindow := bufferSize, detectWindow
	if parse > 0 {
		bufferSize = parse
	}
	if window > 0 {
		detectWindow = window
	}
	return func() { bufferSize, detectWindow = oldParse, oldWindow }
}
