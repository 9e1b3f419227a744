// A real VS Code to test in: code-server (VS Code 1.100 for the browser) on 127.0.0.1, with its home, XDG
// folders, temp folder, user data and extensions all inside one scratch folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CHROMIUM, CODE_SERVER, CODE_SERVER_VERSION, E2E } from './paths';

export interface CodeServer {
  url: string;
  port: number;
  extensionsDir: string;
  stop(): Promise<void>;
}

export function assertToolsInstalled(): void {
  const missing = [
    [path.join(E2E, `code-server/installed-${CODE_SERVER_VERSION}`), `code-server ${CODE_SERVER_VERSION}`],
    [CHROMIUM, 'chromium'],
  ].filter(([p]) => !existsSync(p));
  if (missing.length > 0) throw new Error(`${missing.map(([, what]) => what).join(' and ')} not installed: run npm run e2e:setup`);
}

/** An environment that keeps code-server and everything it starts inside `scratch`. */
export function scratchEnv(scratch: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // The database must come from the workspace settings, never from the developer's environment.
  for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_URL' && !k.startsWith('PG') && !k.startsWith('VSCODE_')) env[k] = v;
  const dirs = { HOME: 'home', XDG_CONFIG_HOME: 'xdg/config', XDG_DATA_HOME: 'xdg/data', XDG_CACHE_HOME: 'xdg/cache', XDG_STATE_HOME: 'xdg/state', TMPDIR: 'tmp' };
  for (const [k, d] of Object.entries(dirs)) {
    env[k] = path.join(scratch, d);
    mkdirSync(env[k]!, { recursive: true });
  }
  return { ...env, ...extra };
}

function run(args: string[], env: NodeJS.ProcessEnv, log: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(CODE_SERVER, 'out/node/entry.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = createWriteStream(log, { flags: 'a' });
    p.stdout.pipe(out);
    p.stderr.pipe(out);
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`code-server ${args.join(' ')} exited with ${code}; see ${log}`))));
  });
}

export async function installExtension(vsix: string, dirs: { userData: string; extensions: string }, env: NodeJS.ProcessEnv, log: string): Promise<void> {
  await run(['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--install-extension', vsix, '--force'], env, log);
}

/** Starts code-server and resolves once it listens. */
export async function startCodeServer(options: {
  userData: string;
  extensions: string;
  env: NodeJS.ProcessEnv;
  log: string;
  userSettings: Record<string, unknown>;
}): Promise<CodeServer> {
  mkdirSync(path.join(options.userData, 'User'), { recursive: true });
  writeFileSync(path.join(options.userData, 'User/settings.json'), JSON.stringify(options.userSettings, null, 2));
  const port = await freePort();
  const args = [
    path.join(CODE_SERVER, 'out/node/entry.js'),
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', options.userData,
    '--extensions-dir', options.extensions,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--disable-proxy',
    '--log', 'info',
  ];
  // Its own process group, so that stopping it also ends the extension hosts and the language servers.
  const proc = spawn(process.execPath, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out = createWriteStream(options.log, { flags: 'a' });
  proc.stdout!.pipe(out);
  proc.stderr!.pipe(out);
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer): void => {
      seen += d.toString();
      if (/HTTP server listening on/.test(seen)) {
        proc.stdout!.off('data', onData);
        resolve();
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`code-server exited with ${code} before listening; see ${options.log}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    extensionsDir: options.extensions,
    stop: () => stopGroup(proc),
  };
}

async function stopGroup(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const kill = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-proc.pid!, signal);
    } catch {
      // already gone
    }
  };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  kill('SIGKILL');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
