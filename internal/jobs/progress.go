package jobs

import (
	"sync"
)

// Progress is how a running job reports where it stands. Its methods are
// cheap and safe to call as often as the work likes (once per record, say):
// the runner writes the latest values to the job's row at most once per
// flush interval (half a second by default), and once more when the job ends.
type Progress struct {
	mu    sync.Mutex
	done  int64
	total int64
	note  string
	dirty bool
}

// Set records how much of how much is done; total 0 means not known.
func (p *Progress) Set(done, total int64) {
	p.mu.Lock()
	if p.done != done || p.total != total {
		p.done, p.total, p.dirty = done, total, true
	}
	p.mu.Unlock()
}

// Note records what a person should read about the progress ("1,000 records staged").
func (p *Progress) Note(note string) {
	p.mu.Lock()
	if p.note != note {
		p.note, p.dirty = note, true
	}
	p.mu.Unlock()
}

// take returns the values and whether they changed since the last take.
func (p *Progress) take() (done, total int64, note string, changed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	changed, p.dirty = p.dirty, false
	return p.done, p.total, p.note, changed
}
