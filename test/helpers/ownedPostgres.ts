// A PostgreSQL server the test owns: its own data directory and port, started and stopped at will (to be
// down at start, go down mid-session and come back), optionally with password authentication and TLS.
// Run as the `postgres` user when the tests run as root (the server refuses to run as root).
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface OwnedPostgresOptions {
  /** Password of the `postgres` superuser; set, TCP connections must authenticate with SCRAM. */
  password?: string;
  /** Serve TLS with a certificate for `localhost` signed by a CA the test owns; refuse plain TCP. */
  tls?: boolean;
}

export class OwnedPostgres {
  private running = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bindir: string,
    private readonly asPostgres: boolean,
  ) {}

  static async create(opts: OwnedPostgresOptions = {}): Promise<OwnedPostgres> {
    const bindir = (await run('pg_config', ['--bindir'])).stdout.trim();
    const asPostgres = process.getuid?.() === 0;
    const dir = mkdtempSync(path.join(tmpdir(), 'sqli-pg-'));
    const pg = new OwnedPostgres(dir, await freePort(), bindir, asPostgres);
    if (asPostgres) {
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout);
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout);
      chownSync(dir, uid, gid);
    }
    const data = path.join(dir, 'data');
    const initdb = ['-D', data, '-U', 'postgres', '--auth-local=trust', '-E', 'UTF8', '--no-sync'];
    if (opts.password) {
      const pwfile = path.join(dir, 'pw');
      writeFileSync(pwfile, opts.password);
      if (asPostgres) await run('chown', ['postgres', pwfile]);
      initdb.push(`--pwfile=${pwfile}`, '--auth-host=scram-sha-256');
    } else initdb.push('--auth-host=trust');
    await pg.exec('initdb', initdb);
    const conf = [
      `port = ${pg.port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'fsync = off',
      'max_connections = 40',
    ];
    if (opts.tls) {
      await pg.makeCertificates();
      conf.push('ssl = on', `ssl_cert_file = '${dir}/server.crt'`, `ssl_key_file = '${dir}/server.key'`);
      const method = opts.password ? 'scram-sha-256' : 'trust';
      writeFileSync(
        path.join(data, 'pg_hba.conf'),
        `local all all trust\nhostssl all all 127.0.0.1/32 ${method}\nhostnossl all all 127.0.0.1/32 reject\n`,
      );
    }
    appendFileSync(path.join(data, 'postgresql.conf'), conf.join('\n') + '\n');
    return pg;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** CA certificate (PEM) that signed the server's certificate. */
  get caFile(): string {
    return path.join(this.dir, 'ca.crt');
  }

  /** A CA certificate that did not sign anything of this server's. */
  get otherCaFile(): string {
    return path.join(this.dir, 'other-ca.crt');
  }

  url(opts: { user?: string; password?: string; host?: string; database?: string; params?: Record<string, string> } = {}): string {
    const u = new URL(`postgres://${opts.host ?? '127.0.0.1'}:${this.port}/${opts.database ?? 'postgres'}`);
    u.username = opts.user ?? 'postgres';
    if (opts.password) u.password = encodeURIComponent(opts.password);
    for (const [k, v] of Object.entries(opts.params ?? {})) u.searchParams.set(k, v);
    return u.toString();
  }

  async start(): Promise<void> {
    await this.exec('pg_ctl', ['-D', path.join(this.dir, 'data'), '-l', path.join(this.dir, 'log'), '-w', '-t', '60', 'start']);
    this.running = true;
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.exec('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
    this.running = false;
  }

  /** Runs SQL as the superuser over the server's own socket (no password, no TLS needed). */
  async psql(sql: string): Promise<string> {
    return (await this.exec('psql', ['-h', this.dir, '-p', String(this.port), '-U', 'postgres', '-d', 'postgres', '-XAtqc', sql])).trim();
  }

  async destroy(): Promise<void> {
    if (this.running) await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async exec(tool: string, args: string[]): Promise<string> {
    const bin = path.join(this.bindir, tool);
    const { stdout } = this.asPostgres
      ? await run('runuser', ['-u', 'postgres', '--', bin, ...args], { cwd: this.dir })
      : await run(bin, args, { cwd: this.dir });
    return stdout;
  }

  private async makeCertificates(): Promise<void> {
    const d = this.dir;
    const ssl = (args: string[]): Promise<unknown> => run('openssl', args, { cwd: d });
    for (const ca of ['ca', 'other-ca']) {
      await ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=sqli test ${ca}`, '-keyout', `${ca}.key`, '-out', `${ca}.crt`]);
    }
    await ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
    // Only the name `localhost`: connecting to 127.0.0.1 then fails verify-full's host check, not verify-ca's.
    writeFileSync(path.join(d, 'san.ext'), 'subjectAltName = DNS:localhost\n');
    await ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt']);
    if (this.asPostgres) await run('chown', ['-R', 'postgres', d]);
    await run('chmod', ['600', path.join(d, 'server.key')]);
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
