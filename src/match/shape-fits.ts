// Shape-constrained fits of binned counts, for the score model (score-model.ts): a
// non-decreasing fit (pool adjacent violators) and a smooth, nearly log-concave Poisson fit.

/**
 * Weighted least-squares non-decreasing fit of `values` (pool adjacent violators, Ayer et al.
 * 1955). Weights default to 1; the fit keeps each pool's weighted mean.
 */
export function isotonicIncreasing(values: ArrayLike<number>, weights?: ArrayLike<number>): Float64Array {
  const n = values.length;
  const mean: number[] = [];
  const weight: number[] = [];
  const size: number[] = [];
  for (let i = 0; i < n; i++) {
    mean.push(values[i]);
    weight.push(weights === undefined ? 1 : Math.max(1e-12, weights[i]));
    size.push(1);
    while (mean.length > 1 && mean[mean.length - 2] > mean[mean.length - 1]) {
      const w = weight[weight.length - 2] + weight[weight.length - 1];
      const m = (mean[mean.length - 2] * weight[weight.length - 2] + mean[mean.length - 1] * weight[weight.length - 1]) / w;
      const s = size[size.length - 2] + size[size.length - 1];
      mean.splice(-2, 2, m);
      weight.splice(-2, 2, w);
      size.splice(-2, 2, s);
    }
  }
  const out = new Float64Array(n);
  let at = 0;
  for (let k = 0; k < mean.length; k++) for (let j = 0; j < size[k]; j++) out[at++] = mean[k];
  return out;
}

export interface LogConcaveOptions {
  /** Penalty on upward bends (positive second differences of the log) where the evidence is weak. */
  convexPenalty?: number;
  /** The same penalty where `evidence` holds at least `strongCount` in a bin and its neighbours: there the data may bend the curve up. */
  strongConvexPenalty?: number;
  strongCount?: number;
  /** A fit to start from (expected counts), such as the last EM step's: no continuation needed. */
  start?: ArrayLike<number>;
  /** Upward bends penalised at STRICT_PENALTY, so no gentle bend over many bins slips through (bins with evidence keep strongConvexPenalty). */
  strict?: boolean;
  /** Per bin, how much its count counts in the fit (default 1): a bin of weight 0 is left to the penalties. */
  weights?: ArrayLike<number>;
  /** Per bin, how many observations speak for an upward bend there (default: none, so the fit stays log-concave). */
  evidence?: ArrayLike<number>;
  /** Penalty on all second differences: keeps the curve smooth where counts are sparse. */
  smoothPenalty?: number;
  iterations?: number;
}

// Below this the log of an expected count is pinned, so empty bins keep finite logs.
const LOG_FLOOR = Math.log(1e-4);

/**
 * A smooth curve of expected counts for observed counts y (bins of equal width), Poisson
 * likelihood, log-concave unless the counts insist: minimises
 *   Σ w_b·(e^g − y·g) + Σ κ_b·max(0, Δ²g)² + σ·Σ (Δ²g)²
 * by damped Newton steps (a dense solve: a few hundred bins at most). A log-concave curve has
 * tails that fall at least exponentially, the shape of chance Dice scores above their mode
 * (Walther 2009 on log-concave densities); relatives and namesakes bend the far tail up, which
 * the weaker penalty lets through only where hundreds of pairs show it.
 */
export function nearlyLogConcave(y: ArrayLike<number>, options: LogConcaveOptions = {}): Float64Array {
  const n = y.length;
  const weak = options.convexPenalty ?? 1e6;
  const strong = options.strongConvexPenalty ?? 100;
  const strongCount = options.strongCount ?? 50;
  const sigma = options.smoothPenalty ?? 0.05;
  const iterations = options.iterations ?? 60;
  const g = new Float64Array(n);
  const start = options.start !== undefined && options.start.length === n ? options.start : null;
  for (let i = 0; i < n; i++) g[i] = Math.max(LOG_FLOOR, Math.log(start === null ? Math.max(y[i], 0) + 0.5 : Math.max(start[i], 1e-300)));
  if (n < 3) return g.map(Math.exp);
  const evidence = options.evidence;
  const kappa = new Float64Array(n);
  const bendPenalty = options.strict === true ? STRICT_PENALTY : weak;
  for (let i = 1; i < n - 1; i++) kappa[i] = evidence !== undefined && Math.min(evidence[i - 1], evidence[i], evidence[i + 1]) >= strongCount ? strong : bendPenalty;
  const weights = new Float64Array(n).fill(1);
  if (options.weights !== undefined) for (let i = 0; i < n; i++) weights[i] = Math.max(0, options.weights[i]);
  if (options.strict === true && start === null) {
    // Continuation: the penalty raised a hundredfold at a time to STRICT_PENALTY, each solve from
    // the last (Newton started at the data under the full penalty stalls in its line search).
    for (let scale = 1; scale <= STRICT_PENALTY; scale *= 100) newton(g, y, weights, kappa.map((k) => Math.min(k, scale)), sigma, iterations);
  } else {
    newton(g, y, weights, kappa, sigma, iterations);
  }
  return g.map(Math.exp);
}

// The upward-bend penalty of a strict fit: no bend the data can pay for (see nearlyLogConcave).
const STRICT_PENALTY = 1e8;

/** Damped Newton steps on Σ (e^g − y·g) + Σ κ_i·max(0, Δ²g_i)² + σ·Σ (Δ²g_i)², in place. */
function newton(g: Float64Array, y: ArrayLike<number>, weights: Float64Array, kappa: Float64Array, sigma: number, iterations: number): void {
  const n = g.length;
  const objective = (x: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < n; i++) f += weights[i] * (Math.exp(x[i]) - Math.max(0, y[i]) * x[i]);
    for (let i = 1; i < n - 1; i++) {
      const d = x[i - 1] - 2 * x[i] + x[i + 1];
      f += (d > 0 ? kappa[i] * d * d : 0) + sigma * d * d;
    }
    return f;
  };
  const H = new Float64Array(n * n);
  const grad = new Float64Array(n);
  const trial = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    H.fill(0);
    for (let i = 0; i < n; i++) {
      const e = Math.exp(g[i]);
      grad[i] = weights[i] * (e - Math.max(0, y[i]));
      H[i * n + i] = weights[i] * e + 1e-9;
    }
    for (let i = 1; i < n - 1; i++) {
      const d = g[i - 1] - 2 * g[i] + g[i + 1];
      const c = (d > 0 ? kappa[i] : 0) + sigma;
      const stencil: Array<[number, number]> = [
        [i - 1, 1],
        [i, -2],
        [i + 1, 1],
      ];
      for (const [r, cr] of stencil) {
        grad[r] += 2 * c * d * cr;
        for (const [q, cq] of stencil) H[r * n + q] += 2 * c * cr * cq;
      }
    }
    // Bins pinned at the floor that the gradient pushes further down stay put (projected Newton):
    // moving them with the rest breaks the descent, and the line search then stalls.
    for (let i = 0; i < n; i++) {
      if (g[i] > LOG_FLOOR + 1e-12 || grad[i] <= 0) continue;
      for (let j = 0; j < n; j++) {
        H[i * n + j] = 0;
        H[j * n + i] = 0;
      }
      H[i * n + i] = 1;
      grad[i] = 0;
    }
    const step = solveSymmetric(H, grad, n);
    const before = objective(g);
    let scale = 1;
    let improved = false;
    for (let halving = 0; halving < 30; halving++) {
      for (let i = 0; i < n; i++) trial[i] = Math.max(LOG_FLOOR, g[i] - scale * step[i]);
      if (objective(trial) <= before) {
        improved = true;
        break;
      }
      scale /= 2;
    }
    if (!improved) return;
    let change = 0;
    for (let i = 0; i < n; i++) {
      change = Math.max(change, Math.abs(trial[i] - g[i]));
      g[i] = trial[i];
    }
    if (change < 1e-7) return;
  }
}

/** Solves H x = b for a symmetric positive definite H (Cholesky, in place on a copy). */
function solveSymmetric(matrix: Float64Array, b: Float64Array, n: number): Float64Array {
  const L = Float64Array.from(matrix);
  for (let j = 0; j < n; j++) {
    let d = L[j * n + j];
    for (let k = 0; k < j; k++) d -= L[j * n + k] * L[j * n + k];
    const root = Math.sqrt(Math.max(d, 1e-12));
    L[j * n + j] = root;
    for (let i = j + 1; i < n; i++) {
      let s = L[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = s / root;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) x[i] -= L[i * n + k] * x[k];
    x[i] /= L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) x[i] -= L[k * n + i] * x[k];
    x[i] /= L[i * n + i];
  }
  return x;
}
