/**
 * Randomness as an injected value, so decisions that use it (placement's ring start, brick ids) are
 * reproducible in tests and benchmarks: the same seed gives the same layout.
 */

/** A source of floats in [0, 1), like Math.random. Production passes a crypto-seeded generator or Math.random. */
export type Random = () => number;

/**
 * A seeded PRNG (sfc32 seeded through splitmix32). Small, fast and good enough for placement and ids;
 * not for secrets.
 */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** An integer in [0, maxExclusive). */
export function randomInt(random: Random, maxExclusive: number): number {
  return Math.floor(random() * maxExclusive);
}

/** `chars` lowercase hex digits; used for brick ids (LV names), so they must stay [0-9a-f]. */
export function randomHex(random: Random, chars: number): string {
  let out = '';
  while (out.length < chars) {
    out += Math.floor(random() * 0x10000)
      .toString(16)
      .padStart(4, '0');
  }
  return out.slice(0, chars);
}
