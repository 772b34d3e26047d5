package api

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterClients bounds how many client addresses the limiter remembers.
const limiterClients = 10000

// limiter is a token bucket per client address, holding at most
// limiterClients buckets; the least recently seen client is forgotten first.
type limiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	order   *list.List // of *bucket, most recent first
	buckets map[string]*list.Element
}

type bucket struct {
	client string
	lim    *rate.Limiter
}

func newLimiter(perSecond float64, burst int, now func() time.Time) *limiter {
	if burst < 1 {
		burst = max(1, int(perSecond))
	}
	return &limiter{
		rate:    rate.Limit(perSecond),
		burst:   burst,
		now:     now,
		order:   list.New(),
		buckets: make(map[string]*list.Element),
	}
}

// allow reports whether client may make a request now, and if not, how
// long it should wait.
func (l *limiter) allow(client string) (time.Duration, bool) {
	if l.rate <= 0 {
		return 0, true
	}
	l.mu.Lock()
	el, ok := l.buckets[client]
	if ok {
		l.order.MoveToFront(el)
	} else {
		el = l.order.PushFront(&bucket{client: client, lim: rate.NewLimiter(l.rate, l.burst)})
		l.buckets[client] = el
		if l.order.Len() > limiterClients {
			last := l.order.Back()
			l.order.Remove(last)
			delete(l.buckets, last.Value.(*bucket).client)
		}
	}
	lim := el.Value.(*bucket).lim
	l.mu.Unlock()

	now := l.now()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}
