"""Full-jitter backoff (docs/protocol.md section 9), bit for bit as core/src/backoff.cpp:
cap = min(max_ms, floor(min_ms * factor^attempt)); delay = min(cap, floor(random * (cap + 1)))."""
from __future__ import annotations

import math
from dataclasses import dataclass

_LARGEST_BELOW_ONE = 1.0 - 2.0**-53


@dataclass(frozen=True)
class BackoffPolicy:
    min_ms: int = 500
    max_ms: int = 30_000
    factor: float = 2.0


def _power(base: float, exponent: int) -> float:
    # Squaring with plain double multiplications, as the core does (never pow()).
    result = 1.0
    while exponent:
        if exponent & 1:
            result *= base
        exponent >>= 1
        if exponent:
            base *= base
    return result


def _cap_ms(policy: BackoffPolicy, attempt: int) -> int:
    max_ms = policy.max_ms if policy.max_ms > 0 else 0
    if policy.min_ms <= 0 or max_ms == 0:
        return 0
    factor = policy.factor if policy.factor >= 1.0 else 1.0  # NaN fails the comparison too
    grown = float(policy.min_ms) * _power(factor, attempt)
    if grown >= float(max_ms):
        return max_ms
    return math.floor(grown)


def backoff_delay(policy: BackoffPolicy, attempt: int, random01: float) -> int:
    """Delay before reconnect attempt `attempt` (0 for the first retry), chosen by random01."""
    cap = _cap_ms(policy, attempt)
    r = random01 if random01 > 0.0 else 0.0
    r = r if r < 1.0 else _LARGEST_BELOW_ONE
    scaled = math.floor(r * (float(cap) + 1.0))
    return cap if scaled >= cap else int(scaled)
