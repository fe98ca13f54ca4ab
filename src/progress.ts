// Progress lines on stderr, only when stderr is a terminal: scripts and CI logs stay clean.

export interface Progress {
  /** Reports `done` units and, when known, the fraction of the whole job done; redraws at most every 200 ms. */
  update(done: number, fraction?: number): void;
  /** Clears the line. */
  finish(): void;
}

const SILENT: Progress = { update: () => undefined, finish: () => undefined };

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
}

/** @example const progress = startProgress('encoding', 'records'); progress.update(records, bytesRead / fileSize); */
export function startProgress(label: string, unit: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return SILENT;
  const started = performance.now();
  let last = 0;
  return {
    update(done, fraction) {
      const now = performance.now();
      if (now - last < 200) return;
      last = now;
      const seconds = (now - started) / 1000;
      const rate = done / Math.max(seconds, 1e-3);
      const eta = fraction !== undefined && fraction > 0 ? ` ETA ${formatDuration((seconds * (1 - fraction)) / fraction)}` : '';
      stream.write(`\r\x1b[K${label}: ${done.toLocaleString('en-US')} ${unit} (${Math.round(rate).toLocaleString('en-US')}/s)${eta}`);
    },
    finish() {
      stream.write('\r\x1b[K');
    },
  };
}
