// Tests that need a local service (PostgreSQL, Redis) follow one rule: they run when the service
// answers; when it does not, they FAIL if CI is set (CI=true) and are skipped with a message
// otherwise, so a developer without the service still gets a green suite.
import { connect } from 'node:net';

export interface ServiceGate {
  name: string;
  address: string;
  /** The service accepted a TCP connection. */
  available: boolean;
  /** Run the tests: the service is there, or CI requires it (they will then fail). */
  run: boolean;
}

function reachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Checks whether `name` listens at host:port and decides per the rule above, printing why tests
 * are skipped.
 *
 * @example const pg = await serviceGate('PostgreSQL', '127.0.0.1', 5432); describe.runIf(pg.run)(...)
 */
export async function serviceGate(name: string, host: string, port: number, env: NodeJS.ProcessEnv = process.env): Promise<ServiceGate> {
  const address = `${host}:${port}`;
  const available = await reachable(host, port, 2000);
  const inCi = env.CI === 'true';
  if (!available && !inCi) console.warn(`skipping ${name} tests: nothing listens at ${address} (with CI=true they would fail)`);
  return { name, address, available, run: available || inCi };
}

/** For a beforeAll: fails loudly (CI without the service) instead of a confusing connection error later. */
export function assertAvailable(gate: ServiceGate): void {
  if (!gate.available) throw new Error(`${gate.name} is required (CI is set) but nothing listens at ${gate.address}`);
}
