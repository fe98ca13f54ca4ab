// The rule for tests that need a local service: skip with a message without it, fail under CI.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serviceGate } from './helpers/service-available.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('serviceGate', () => {
  it('skips without the service, but runs (to fail) when CI=true', async () => {
    const port = await closedPort();
    expect(await serviceGate('Nothing', '127.0.0.1', port, {})).toMatchObject({ available: false, run: false });
    expect(await serviceGate('Nothing', '127.0.0.1', port, { CI: 'true' })).toMatchObject({ available: false, run: true });
  });

  it('runs when the service listens', async () => {
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await serviceGate('Listener', '127.0.0.1', port, {})).toMatchObject({ available: true, run: true });
    } finally {
      server.close();
    }
  });
});
