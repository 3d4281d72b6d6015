package core

import "math"

// BackoffPolicy is full-jitter backoff (docs/protocol.md section 9), computed exactly as
// core/src/backoff.cpp does so every client gives the same delay for the same inputs:
//
//	cap   = min(MaxMS, floor(MinMS * Factor^attempt))
//	delay = min(cap, floor(random * (cap + 1)))
type BackoffPolicy struct {
	MinMS  int64
	MaxMS  int64
	Factor float64
}

// DefaultBackoff is the protocol's default: 500 ms, 30 s, factor 2.
var DefaultBackoff = BackoffPolicy{MinMS: 500, MaxMS: 30000, Factor: 2}

// power is exponentiation by squaring with plain float64 multiplications (as the C++ does,
// never math.Pow, whose last bit may differ).
func power(base float64, exp uint32) float64 {
	result := 1.0
	for exp != 0 {
		if exp&1 != 0 {
			result *= base
		}
		exp >>= 1
		if exp != 0 {
			base *= base
		}
	}
	return result
}

func clampRandom(r float64) float64 {
	if !(r > 0) {
		return 0
	}
	if r < 1 {
		return r
	}
	return 1 - 0x1p-53
}

func (p BackoffPolicy) capMS(attempt uint32) int64 {
	maxMS := p.MaxMS
	if maxMS < 0 {
		maxMS = 0
	}
	if p.MinMS <= 0 || maxMS == 0 {
		return 0
	}
	factor := p.Factor
	if !(factor >= 1) {
		factor = 1
	}
	grown := float64(p.MinMS) * power(factor, attempt)
	if grown >= float64(maxMS) {
		return maxMS
	}
	return int64(math.Floor(grown))
}

// Delay is the wait before attempt number `attempt` (from 0), for random in [0, 1).
func (p BackoffPolicy) Delay(attempt uint32, random float64) int64 {
	c := p.capMS(attempt)
	cd := float64(c)
	scaled := math.Floor(clampRandom(random) * (cd + 1))
	if scaled >= cd {
		return c
	}
	return int64(scaled)
}
