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
 * by damped Newton steps (a banded solve, O(bins) each). A log-concave curve has
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
  for (let i = 0; i < n; i++) g[i] = Math.max(LOG_FLOOR, Math.log(Math.max(y[i], 0) + 0.5));
  if (n < 3) return g.map(Math.exp);
  const evidence = options.evidence;
  const kappa = new Float64Array(n);
  const bendPenalty = options.strict === true ? STRICT_PENALTY : weak;
  for (let i = 1; i < n - 1; i++) kappa[i] = evidence !== undefined && Math.min(evidence[i - 1], evidence[i], evidence[i + 1]) >= strongCount ? strong : bendPenalty;
  const weights = new Float64Array(n).fill(1);
  if (options.weights !== undefined) for (let i = 0; i < n; i++) weights[i] = Math.max(0, options.weights[i]);
  if (options.strict === true) {
    // Continuation: the penalty raised a hundredfold at a time to STRICT_PENALTY, each solve from
    // the last (Newton started at the data under the full penalty stalls in its line search).
    for (let scale = 1; scale <= STRICT_PENALTY; scale *= 100) newton(g, y, weights, kappa.map((k) => Math.min(k, scale)), sigma, iterations);
  } else {
    newton(g, y, weights, kappa, sigma, iterations);
  }
  extendTails(g);
  return g.map(Math.exp);
}

/**
 * Beyond its support the fit is 0 (a log-concave maximum likelihood fit ends where its data end),
 * which would make one pair past the last one seen impossible by chance. Each tail is carried on
 * instead at the slope of its last step, where that step falls outward: the most a log-concave
 * curve can hold there, so a lone outlier is weighed against a chance tail, not against nothing.
 */
function extendTails(g: Float64Array): void {
  const [lo, hi] = support(g);
  if (hi - lo < 1) return;
  const up = g[hi] - g[hi - 1];
  if (up < 0) for (let i = hi + 1; i < g.length; i++) g[i] = Math.max(LOG_FLOOR, g[hi] + (i - hi) * up);
  const down = g[lo] - g[lo + 1];
  if (down < 0) for (let i = lo - 1; i >= 0; i--) g[i] = Math.max(LOG_FLOOR, g[lo] + (lo - i) * down);
}

// The upward-bend penalty of a strict fit: no bend the data can pay for (see nearlyLogConcave).
const STRICT_PENALTY = 1e8;

/**
 * The bins from the first to the last whose log is above LOG_FLOOR: the curve's support. The
 * penalties see only triples inside it. Where a falling tail reaches the floor the curve is in
 * truth 0 (log −∞), not flat at the floor: penalising that corner as an upward bend would make
 * every tail fall no faster than a straight line that just reaches the floor at the last bin,
 * which kept chance curves far too high above their last pairs.
 */
function support(x: Float64Array): [number, number] {
  let lo = 0;
  while (lo < x.length && x[lo] <= LOG_FLOOR + 1e-9) lo++;
  let hi = x.length - 1;
  while (hi > lo && x[hi] <= LOG_FLOOR + 1e-9) hi--;
  return [lo, hi];
}

/** Damped Newton steps on Σ (e^g − y·g) + Σ κ_i·max(0, Δ²g_i)² + σ·Σ (Δ²g_i)² (triples within the support), in place. */
function newton(g: Float64Array, y: ArrayLike<number>, weights: Float64Array, kappa: Float64Array, sigma: number, iterations: number): void {
  const n = g.length;
  const objective = (x: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < n; i++) f += weights[i] * (Math.exp(x[i]) - Math.max(0, y[i]) * x[i]);
    const [lo, hi] = support(x);
    for (let i = Math.max(1, lo + 1); i < Math.min(n - 1, hi); i++) {
      const d = x[i - 1] - 2 * x[i] + x[i + 1];
      f += (d > 0 ? kappa[i] * d * d : 0) + sigma * d * d;
    }
    return f;
  };
  // The Hessian is pentadiagonal (second differences couple a bin to two on each side): stored
  // as its diagonal and first two superdiagonals, solved in O(n).
  const band = new Band(n);
  const grad = new Float64Array(n);
  const trial = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    band.clear();
    for (let i = 0; i < n; i++) {
      const e = Math.exp(g[i]);
      grad[i] = weights[i] * (e - Math.max(0, y[i]));
      band.diagonal[i] = weights[i] * e + 1e-9;
    }
    const [lo, hi] = support(g);
    for (let i = Math.max(1, lo + 1); i < Math.min(n - 1, hi); i++) {
      const d = g[i - 1] - 2 * g[i] + g[i + 1];
      const c = 2 * ((d > 0 ? kappa[i] : 0) + sigma);
      // Stencil (1, −2, 1) on bins i − 1, i, i + 1: c·stencilᵀ·stencil added to the Hessian.
      grad[i - 1] += c * d;
      grad[i] -= 2 * c * d;
      grad[i + 1] += c * d;
      band.diagonal[i - 1] += c;
      band.diagonal[i] += 4 * c;
      band.diagonal[i + 1] += c;
      band.first[i - 1] -= 2 * c;
      band.first[i] -= 2 * c;
      band.second[i - 1] += c;
    }
    // Bins pinned at the floor that the gradient pushes further down stay put (projected Newton):
    // moving them with the rest breaks the descent, and the line search then stalls. So do the
    // tails beyond the support: lifted off the floor, a bin would bring the corner at the end of
    // the support back under the bend penalty, and no step, however short, would then descend.
    for (let i = 0; i < n; i++) {
      const outside = i < lo || i > hi;
      if (!outside && (g[i] > LOG_FLOOR + 1e-12 || grad[i] <= 0)) continue;
      band.isolate(i);
      grad[i] = 0;
    }
    const step = band.solve(grad);
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

/** A symmetric positive definite pentadiagonal matrix: diagonal, (i, i + 1) and (i, i + 2) entries. */
class Band {
  readonly diagonal: Float64Array;
  readonly first: Float64Array;
  readonly second: Float64Array;

  constructor(readonly n: number) {
    this.diagonal = new Float64Array(n);
    this.first = new Float64Array(n);
    this.second = new Float64Array(n);
  }

  clear(): void {
    this.diagonal.fill(0);
    this.first.fill(0);
    this.second.fill(0);
  }

  /** Row and column i become those of the identity. */
  isolate(i: number): void {
    this.diagonal[i] = 1;
    this.first[i] = 0;
    this.second[i] = 0;
    if (i >= 1) this.first[i - 1] = 0;
    if (i >= 2) this.second[i - 2] = 0;
  }

  /** Solves H x = b by a banded Cholesky factorisation H = L·Lᵀ (L lower, bandwidth 2). */
  solve(b: Float64Array): Float64Array {
    const { n } = this;
    const d = new Float64Array(n); // L[i][i]
    const l1 = new Float64Array(n); // L[i][i − 1]
    const l2 = new Float64Array(n); // L[i][i − 2]
    for (let i = 0; i < n; i++) {
      l2[i] = i >= 2 ? this.second[i - 2] / d[i - 2] : 0;
      l1[i] = i >= 1 ? (this.first[i - 1] - (i >= 2 ? l2[i] * l1[i - 1] : 0)) / d[i - 1] : 0;
      d[i] = Math.sqrt(Math.max(this.diagonal[i] - l1[i] * l1[i] - l2[i] * l2[i], 1e-12));
    }
    const x = Float64Array.from(b);
    for (let i = 0; i < n; i++) x[i] = (x[i] - (i >= 1 ? l1[i] * x[i - 1] : 0) - (i >= 2 ? l2[i] * x[i - 2] : 0)) / d[i];
    for (let i = n - 1; i >= 0; i--) x[i] = (x[i] - (i + 1 < n ? l1[i + 1] * x[i + 1] : 0) - (i + 2 < n ? l2[i + 2] * x[i + 2] : 0)) / d[i];
    return x;
  }
}
