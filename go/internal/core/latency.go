package core

import "sort"

// Latency the client can see (docs/protocol.md sections 7.2 and 9): the estimate of the
// server's clock offset (from `ready.time_ms`, then the best of the last 8 pongs), an event's
// `time` read as Unix milliseconds, and the running p50/p99 of the delivery delay over the
// last 1,000 live events. Nothing here reads a clock.

const (
	pongSamples = 8    // of the last 8 pongs, the shortest round trip wins
	delayWindow = 1000 // the percentiles cover the last 1,000 live events
)

// LatencyStats is what Session.Latency reports: Count live events in the window (the last ones,
// at most 1,000), the delay's P50 and P99 over them (0 while Count is 0), and the clock offset
// used (the server's clock minus the local one), all in milliseconds.
type LatencyStats struct {
	Count         uint64
	P50MS, P99MS  int64
	ClockOffsetMS int64
}

// clockOffset is the server clock minus the local clock; 0 until a server names its time.
type clockOffset struct {
	offsetMS int64
	pongs    [pongSamples]struct{ rtt, offset int64 }
	n, next  int
}

// onReady: a new connection (perhaps to another node) starts its estimate afresh, forgetting
// the previous one's pongs; an older server's ready without `time_ms` keeps the offset.
func (c *clockOffset) onReady(now int64, timeMS *int64) {
	c.n, c.next = 0, 0
	if timeMS != nil {
		c.offsetMS = *timeMS - now
	}
}

func (c *clockOffset) onPong(sent, now int64, timeMS *int64) {
	if timeMS == nil || now < sent { // a local clock that stepped back measures nothing
		return
	}
	rtt := now - sent
	c.pongs[c.next] = struct{ rtt, offset int64 }{rtt, *timeMS - (sent + rtt/2)}
	c.next = (c.next + 1) % pongSamples
	if c.n < pongSamples {
		c.n++
	}
	// Oldest to newest: the shortest round trip, the newest of equals.
	best := -1
	for i := 0; i < c.n; i++ {
		k := (c.next + pongSamples - c.n + i) % pongSamples
		if best < 0 || c.pongs[k].rtt <= c.pongs[best].rtt {
			best = k
		}
	}
	c.offsetMS = c.pongs[best].offset
}

// delays keeps the delays of the last delayWindow live events in a ring.
type delays struct {
	ring    []int64
	next    int
	scratch []int64
}

func (d *delays) add(ms int64) {
	if len(d.ring) < delayWindow {
		d.ring = append(d.ring, ms)
		return
	}
	d.ring[d.next] = ms
	d.next = (d.next + 1) % delayWindow
}

func (d *delays) stats(offset int64) LatencyStats {
	if len(d.ring) == 0 {
		return LatencyStats{ClockOffsetMS: offset}
	}
	d.scratch = append(d.scratch[:0], d.ring...)
	sort.Slice(d.scratch, func(i, j int) bool { return d.scratch[i] < d.scratch[j] })
	return LatencyStats{Count: uint64(len(d.ring)), P50MS: nearestRank(d.scratch, 50), P99MS: nearestRank(d.scratch, 99), ClockOffsetMS: offset}
}

// nearestRank is the smallest value with at least percent % of the values at or below it.
func nearestRank(ordered []int64, percent int) int64 {
	rank := (percent*len(ordered) + 99) / 100
	if rank < 1 {
		rank = 1
	}
	return ordered[rank-1]
}

// ParseTimeMS reads an RFC 3339 date-time (`2026-11-27T18:02:11.204Z`, any fraction, `Z` or an
// offset) as Unix milliseconds, the fraction cut to ms; false when it is not one. The twin of
// core::parse_rfc3339_ms.
func ParseTimeMS(s string) (int64, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	num := func(begin, end int) int64 {
		var v int64
		for i := begin; i < end; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int64(c-'0')
		}
		return v
	}
	y, mo, d := num(0, 4), num(5, 7), num(8, 10)
	h, mi, sec := num(11, 13), num(14, 16), num(17, 19)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60 {
		return 0, false
	}
	i := 19
	var ms int64
	if s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return 0, false
		}
		for k := 0; k < 3; k++ {
			ms *= 10
			if i+1+k < j {
				ms += int64(s[i+1+k] - '0')
			}
		}
		i = j
	}
	var shift int64
	switch zone := s[i:]; {
	case zone == "Z" || zone == "z":
	case len(zone) == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':':
		zh, zm := num(i+1, i+3), num(i+4, i+6)
		if zh < 0 || zh > 23 || zm < 0 || zm > 59 {
			return 0, false
		}
		shift = zh*60 + zm
		if zone[0] == '-' {
			shift = -shift
		}
	default:
		return 0, false
	}
	seconds := daysFromCivil(y, mo, d)*86400 + h*3600 + mi*60 + sec - shift*60
	return seconds*1000 + ms, true
}

func daysInMonth(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// algorithm; years here are 0 to 9999, so truncating division is flooring).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := m + 9
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
