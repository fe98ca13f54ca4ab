import { it } from 'vitest';
import { estimateFloor } from '../src/match/auto-threshold.js';
import { findCandidates } from '../src/match/candidates.js';
import { fitScoreModel } from '../src/match/score-model.js';
import { perturbed, randomFilters, seeded } from './helpers/clk-json.js';
it('x', async () => {
  const random = seeded(7);
  const b = randomFilters(1500, 1024, 0.3, random);
  const a = perturbed(b, 120, random);
  const floor = await estimateFloor(a, b, 0);
  const c = await findCandidates(a, b, { threshold: floor, workers: 0 });
  const m = fitScoreModel({ candidates: c, countA: a.count, countB: b.count, floor });
  const lines = [];
  for (let k = 0; k < m.bins; k++) if (m.candidates[k] > 0 || m.matches[k] > 0.5) lines.push(`${(floor + k * 0.005).toFixed(3)} C ${m.candidates[k]} U ${m.nonMatches[k].toFixed(2)} M ${m.matches[k].toFixed(2)}`);
  console.log(floor, c.length, m.iterations, m.matchesAboveFloor, '\n' + lines.join('\n'));
});
