// The statistics of the comparison table, pure: a mean and its two-sided 95% interval over seeds with Student's t
// (n - 1 degrees of freedom). Seeds are few (3 to 5 in docs/replication.md), so the normal 1.96 would understate the
// interval badly (t = 4.30 at 3 seeds).

/** t_{0.975, df} for df = 1..30 (index df - 1). */
const T975 = [
  12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
  2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
  2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
];

/**
 * The 0.975 quantile of Student's t with `df` degrees of freedom: the table up to 30, beyond it the Cornish-Fisher
 * expansion around the normal quantile (within 1e-4 of the exact value from df 30 on, and tending to 1.96).
 */
export function t975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`degrees of freedom must be a positive integer, got ${df}`);
  if (df <= T975.length) return T975[df - 1];
  const z = 1.959964;
  const g1 = (z ** 3 + z) / 4;
  const g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96;
  const g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3;
}

export interface MeanInterval {
  mean: number;
  /** How many values the mean is over. */
  n: number;
  /** Half the width of the 95% interval (mean ± halfWidth); null for a single value (no spread to estimate). */
  halfWidth: number | null;
}

/** The mean of `values` and its 95% t interval; null for no values. */
export function meanInterval(values: readonly number[]): MeanInterval | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, n, halfWidth: null };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, n, halfWidth: t975(n - 1) * Math.sqrt(variance / n) };
}
