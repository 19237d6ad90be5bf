package oktasim

import (
	"sync"
	"time"
)

// Bucket is one of Okta's rate-limit counters, named by the path it covers.
type Bucket string

// The buckets the sandbox counts (NOTES §3): GET and POST /api/v1/users
// share one; everything not listed counts against /api/v1.
const (
	BucketUsers      Bucket = "/api/v1/users"          // list, search and create users
	BucketUserGet    Bucket = "GET /api/v1/users/{id}" // get a user by id or login
	BucketUserUpdate Bucket = "/api/v1/users/{id}"     // update or delete a user by id
	BucketGroups     Bucket = "/api/v1/groups"         // list and create groups
	BucketGroup      Bucket = "/api/v1/groups/{id}"    // a group by id
	BucketOther      Bucket = "/api/v1"                // the rest: lifecycle, members, schemas, hooks, authn
)

// Limits are requests per window for each bucket.
type Limits struct {
	Users      int // list + create users
	UserGet    int // get user by id or login
	UserUpdate int // update/delete user by id
	Groups     int // list + create groups
	Group      int // group by id
	Other      int // the rest of /api/v1
}

// DefaultLimits are the per-minute limits of a Workforce org, the last
// published table (NOTES §3, "Per-minute defaults", Workforce column: the
// kind of org a workforce migration loads into, and the one whose
// concurrency default, 75, the sandbox also uses).
var DefaultLimits = Limits{Users: 600, UserGet: 2000, UserUpdate: 600, Groups: 500, Group: 1000, Other: 1200}

// DefaultConcurrency is Okta's Workforce concurrency limit.
const DefaultConcurrency = 75

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.Users, d.Users)
	set(&l.UserGet, d.UserGet)
	set(&l.UserUpdate, d.UserUpdate)
	set(&l.Groups, d.Groups)
	set(&l.Group, d.Group)
	set(&l.Other, d.Other)
	return l
}

func (l Limits) of(b Bucket) int {
	switch b {
	case BucketUsers:
		return l.Users
	case BucketUserGet:
		return l.UserGet
	case BucketUserUpdate:
		return l.UserUpdate
	case BucketGroups:
		return l.Groups
	case BucketGroup:
		return l.Group
	}
	return l.Other
}

// limiter counts requests per bucket in fixed windows that start with a
// bucket's first request (Okta's windows are not aligned with the clock's
// minutes either).
type limiter struct {
	mu     sync.Mutex
	limits Limits
	window time.Duration
	state  map[Bucket]*windowCount
}

type windowCount struct {
	start time.Time
	count int
}

type quota struct {
	limit, remaining int
	reset            int64 // epoch seconds
	exceeded         bool
}

func newLimiter(l Limits, window time.Duration) *limiter {
	return &limiter{limits: l, window: window, state: map[Bucket]*windowCount{}}
}

func (l *limiter) setLimits(limits Limits) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limits = limits
}

func (l *limiter) current() Limits {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limits
}

// take counts one request against b at now.
func (l *limiter) take(b Bucket, now time.Time) quota {
	l.mu.Lock()
	defer l.mu.Unlock()
	wc := l.state[b]
	if wc == nil || !now.Before(wc.start.Add(l.window)) {
		wc = &windowCount{start: now}
		l.state[b] = wc
	}
	limit := l.limits.of(b)
	q := quota{limit: limit, reset: epochCeil(wc.start.Add(l.window))}
	if wc.count >= limit {
		q.exceeded = true
		return q
	}
	wc.count++
	q.remaining = limit - wc.count
	return q
}

// epochCeil is t in epoch seconds, rounded up so that a client waiting
// until Reset never comes back early.
func epochCeil(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}
