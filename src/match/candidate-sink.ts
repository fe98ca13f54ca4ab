// Candidate pairs collected as they are found (by a blocking join or a verifier), in the typed
// columns every solver and reveal mode reads.
import type { Candidates } from './tile.js';

/** Growable typed candidate columns. */
export class CandidateSink {
  length = 0;
  a: Int32Array;
  b: Int32Array;
  score: Float64Array;

  constructor(capacity = 1024) {
    this.a = new Int32Array(capacity);
    this.b = new Int32Array(capacity);
    this.score = new Float64Array(capacity);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.a.length) return;
    const size = Math.max(this.length + extra, this.a.length * 2);
    const a = new Int32Array(size);
    const b = new Int32Array(size);
    const score = new Float64Array(size);
    a.set(this.a.subarray(0, this.length));
    b.set(this.b.subarray(0, this.length));
    score.set(this.score.subarray(0, this.length));
    this.a = a;
    this.b = b;
    this.score = score;
  }

  push(a: number, b: number, score: number): void {
    this.reserve(1);
    this.a[this.length] = a;
    this.b[this.length] = b;
    this.score[this.length] = score;
    this.length++;
  }

  append(c: Candidates): void {
    this.reserve(c.length);
    this.a.set(c.a.subarray(0, c.length), this.length);
    this.b.set(c.b.subarray(0, c.length), this.length);
    this.score.set(c.score.subarray(0, c.length), this.length);
    this.length += c.length;
  }

  /** Views trimmed to length (no copy). */
  view(): Candidates {
    return { length: this.length, a: this.a.subarray(0, this.length), b: this.b.subarray(0, this.length), score: this.score.subarray(0, this.length) };
  }
}
