// A small seeded random source (mulberry32) and the distributions the contact-center model
// draws from, so that a run with --seed is reproducible event for event.

export function seededRandom(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random = {
    next,
    chance: (p) => next() < p,
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    // Picks by weight: [[value, weight], ...].
    weighted(pairs) {
      let r = next() * pairs.reduce((sum, [, w]) => sum + w, 0);
      for (const [value, w] of pairs) if ((r -= w) < 0) return value;
      return pairs[pairs.length - 1][0];
    },
    exponential: (mean) => -Math.log(1 - next()) * mean,
    // Box-Muller; one normal draw per call keeps the sequence simple to reason about.
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
    // Handle times are right-skewed: a log-normal with the given mean and coefficient of variation.
    lognormal(mean, cv) {
      const sigma2 = Math.log(1 + cv * cv);
      return Math.exp(Math.log(mean) - sigma2 / 2 + Math.sqrt(sigma2) * random.normal());
    },
    // Number of arrivals in an interval whose expected count is `lambda` (Knuth; lambda is small).
    poisson(lambda) {
      const limit = Math.exp(-lambda);
      let k = 0, p = next();
      while (p > limit) { k++; p *= next(); }
      return k;
    },
  };
  return random;
}
