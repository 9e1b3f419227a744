// Helpers for the database tests: condition polling and a controllable TCP proxy in front of PostgreSQL.
import * as net from 'net';
import { DEFAULT_SETTINGS, type SqlInsightSettings } from '../../common/protocol';

export function settingsFor(url: string, overrides: Partial<SqlInsightSettings> = {}): SqlInsightSettings {
  return { ...DEFAULT_SETTINGS, ...overrides, databaseUrl: url };
}

/** Same database URL, but through another host:port (and optionally with extra query parameters). */
export function viaPort(url: string, port: number, params: Record<string, string> = {}): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/**
 * Waits until `probe` returns a truthy value, checking every 20 ms. For server-side states that no event
 * announces (a backend starting to wait on a lock); never used as a blind delay.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export type ProxyMode = 'up' | 'down' | 'frozen';

/**
 * A TCP proxy to a real server. `down` drops new connections at once; `frozen` keeps connections open
 * but stops passing the server's bytes on, i.e. a server that no longer answers.
 */
export class TcpProxy {
  mode: ProxyMode = 'up';
  /** Connections accepted so far. */
  connections = 0;
  /** Every byte the clients sent, when `record` is on (to prove what was, and was not, sent). */
  record = false;
  private readonly sent: Buffer[] = [];
  private readonly sockets = new Set<net.Socket>();
  private server?: net.Server;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async listen(port = 0): Promise<number> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return (server.address() as net.AddressInfo).port;
  }

  private accept(client: net.Socket): void {
    this.connections++;
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => undefined);
    if (this.mode === 'down') {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => undefined);
    client.on('close', () => upstream.destroy());
    client.on('data', (d) => {
      if (this.record) this.sent.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (this.mode !== 'frozen') client.write(d);
    });
  }

  /** What the clients sent since the last call, as UTF-8 text. */
  takeSent(): string {
    const text = Buffer.concat(this.sent).toString('utf8');
    this.sent.length = 0;
    return text;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A TCP server that accepts connections and never says a word. */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
