// Two-sided geometric noise (the discrete Laplace mechanism of Ghosh, Roughgarden and Sundararajan
// 2009) for the noisy-count reveal: integer noise, so none of the floating-point leaks of
// continuous Laplace (Mironov 2012), drawn from node:crypto rather than Math.random.
import { randomBytes } from 'node:crypto';

/** A uniform double in (0, 1] with 53 random bits from the OS CSPRNG. */
export function cryptoUniform(): number {
  const bytes = randomBytes(8);
  const high = bytes.readUInt32BE(0) >>> 11; // 21 bits
  const low = bytes.readUInt32BE(4); // 32 bits
  return (high * 2 ** 32 + low + 1) / 2 ** 53;
}

/**
 * Smallest epsilon (per unit of sensitivity) the sampler serves. Inversion draws
 * floor(-ln(u) / epsilon) with u >= 2^-53, so the draw stays below 37 / epsilon; above 2^53 doubles
 * no longer hold every integer and the noise would no longer be the two-sided geometric it claims
 * (that starts near 4e-15). At 1e-12 the noise already runs to about 10^12, which swamps any count.
 */
export const MIN_EPSILON = 1e-12;

/**
 * Geometric on {0, 1, ...} with P(k) = (1 - alpha) alpha^k, alpha = exp(-rate), by inversion. The
 * rate is used as it is: exp(-1e-17) rounds to 1, and ln(1) = 0 made the draw NaN.
 */
function geometric(rate: number, uniform: () => number): number {
  return Math.floor(-Math.log(uniform()) / rate);
}

/**
 * Noise with P(k) proportional to exp(-epsilon |k| / sensitivity): the difference of two
 * independent geometric variables. Adding it to a count whose sensitivity is 1 (one person
 * changes a 1:1 matching's size by at most one) gives epsilon-differential privacy.
 *
 * @example count + twoSidedGeometric(0.5)
 */
export function twoSidedGeometric(epsilon: number, sensitivity = 1, uniform: () => number = cryptoUniform): number {
  const rate = epsilon / sensitivity;
  if (!Number.isFinite(epsilon) || !(rate >= MIN_EPSILON)) throw new RangeError(`epsilon / sensitivity must be a finite number of at least ${MIN_EPSILON}, got ${epsilon} / ${sensitivity}`);
  return geometric(rate, uniform) - geometric(rate, uniform);
}

export const NOISE_MECHANISM = 'two-sided geometric (discrete Laplace), sensitivity 1, clamped to [0, min(|A|, |B|)]';

/**
 * The released noisy count. Clamping to the possible range is post-processing, so it costs
 * no privacy, and it spares readers negative or impossible counts.
 */
export function noisyCount(count: number, epsilon: number, maxCount: number, uniform: () => number = cryptoUniform): number {
  return Math.min(maxCount, Math.max(0, count + twoSidedGeometric(epsilon, 1, uniform)));
}
