// The end-to-end demo: two custodians and a linkage unit on synthetic taxpayer data, in a
// temporary folder that is removed afterwards. Each step calls the same code as the CLI.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateFiles } from './evaluate/evaluate-files.js';
import { encodeFile } from './encode-file.js';
import { packagePath } from './worker-path.js';
import { matchFiles } from './match/match-files.js';
import { readSecret, writeNewSecret } from './secret.js';
import { DEFAULT_CORRUPTION } from './synth/corrupt.js';
import { synthesize } from './synth/write.js';

export interface DemoOptions {
  registry: number;
  requests: number;
  seed: number;
  workers: number;
  threshold: number | 'auto';
  /** Keep the generated files in this folder instead of a temporary one that is removed. */
  keepIn?: string;
}

export interface DemoStep {
  name: string;
  seconds: number;
}

export interface DemoReport {
  registry: number;
  requests: number;
  threshold: number;
  thresholdChoice?: { method: string; reason: string };
  releasedCount: number;
  trueOverlap: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  steps: DemoStep[];
  folder: string | null;
}

/** Runs the demo; `say` receives one line per finished step. */
export async function runDemo(options: DemoOptions, say: (line: string) => void): Promise<DemoReport> {
  const folder = options.keepIn ?? (await mkdtemp(join(tmpdir(), 'blindlink-demo-')));
  const steps: DemoStep[] = [];
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    const seconds = (performance.now() - started) / 1000;
    steps.push({ name, seconds });
    say(`${name.padEnd(64)} ${seconds.toFixed(2).padStart(6)} s`);
    return result;
  };
  const file = (name: string) => join(folder, name);
  const schema = packagePath('docs/examples/taxpayer-schema.json');
  try {
    const synth = await step(`synthesise ${options.registry.toLocaleString('en-US')} taxpayers and ${options.requests.toLocaleString('en-US')} requests`, () =>
      synthesize({
        registry: options.registry,
        requests: options.requests,
        overlap: 0.037,
        seed: options.seed,
        outDir: folder,
        rates: DEFAULT_CORRUPTION,
        namesakeRate: 0.1,
        relativeRate: 0.1,
      }),
    );
    await step('custodians agree on a secret (keygen)', () => writeNewSecret(file('secret.key')));
    const secret = await readSecret(file('secret.key'));
    const encode = (input: string, output: string) =>
      encodeFile({ schema, secret, input, output, workers: options.workers, dialect: { delimiter: ',', trim: false }, onError: 'fail' });
    await step('tax agency encodes its registry', () => encode(synth.registryPath, file('registry.arrow')));
    await step('requesting agency encodes its requests', () => encode(synth.requestsPath, file('requests.arrow')));
    secret.fill(0);
    // One matching run serves both: the count-only release is exactly the size of the 1:1
    // matching whose pairs the demo keeps, only to score that count against the truth.
    const released = await step('linkage unit matches encodings (releases only the count)', () =>
      matchFiles({
        a: file('requests.arrow'),
        b: file('registry.arrow'),
        threshold: options.threshold,
        reveal: 'pairs',
        epsilon: null,
        out: file('pairs.csv'),
        workers: options.workers,
        warn: (message) => say(`warning: ${message}`),
      }),
    );
    const { evaluation } = await step('(demo only) score the pairs behind the count against the truth', () =>
      evaluateFiles(synth.truthPath, file('pairs.csv'), 'requests'),
    );
    return {
      registry: synth.registryRows,
      requests: synth.requestRows,
      threshold: released.threshold,
      thresholdChoice: released.thresholdChoice,
      releasedCount: released.count,
      trueOverlap: synth.members,
      precision: evaluation.precision,
      recall: evaluation.recall,
      f1: evaluation.f1,
      steps,
      folder: options.keepIn ?? null,
    };
  } finally {
    if (options.keepIn === undefined) await rm(folder, { recursive: true, force: true });
  }
}
