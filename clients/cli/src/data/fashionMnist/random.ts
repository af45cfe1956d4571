// Seeded randomness for the Fashion-MNIST generator. Every random choice draws from a stream derived from
// (seed, purpose), e.g. `select:train` or `teacher-concise:perceive:train-00012:3`, so one choice never
// shifts another: the same seed gives byte-identical output, and changing one knob (the number of teacher
// samples, say) leaves the examples unchanged.

/** A uniform float in [0, 1). */
export type Rng = () => number;

/** mulberry32: a small 32-bit PRNG, plenty for sampling a demo dataset (not for cryptography). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the UTF-16 code units of a string, 32-bit. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The stream for one purpose under one seed. */
export const rngFor = (seed: number, purpose: string): Rng => mulberry32(fnv1a(`${seed}\u0000${purpose}`));

/** An integer in [0, n). */
export const randInt = (rng: Rng, n: number): number => Math.floor(rng() * n);

/** Fisher-Yates, in place; returns the array. */
export function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randInt(rng, i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
