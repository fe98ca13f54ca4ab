// Progress goes to stderr only when it is a terminal, and shows the count, rate and ETA.
import { describe, expect, it } from 'vitest';
import { startProgress } from '../src/progress.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY, text: '', write(chunk: string) { stream.text += chunk; return true; } };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe('progress', () => {
  it('stays silent when the stream is not a terminal', () => {
    const stream = fakeStream(false);
    const progress = startProgress('encoding', 'records', stream);
    progress.update(1000, 0.5);
    progress.finish();
    expect(stream.text).toBe('');
  });

  it('shows records done, rate and ETA on a terminal, throttled, and clears the line at the end', async () => {
    const stream = fakeStream(true);
    const progress = startProgress('encoding', 'records', stream);
    await new Promise((resolve) => setTimeout(resolve, 250));
    progress.update(12_345, 0.25);
    progress.update(12_346, 0.25); // within 200 ms of the last redraw: skipped
    expect(stream.text).toMatch(/encoding: 12,345 records \([\d,]+\/s\) ETA \d+s/);
    expect(stream.text).not.toContain('12,346');
    progress.finish();
    expect(stream.text.endsWith('\r\x1b[K')).toBe(true);
  });
});
