// The peers of scenario 3, run as their users run them: one CLI process per file. They live in the ignored
// .bench/ folder, installed from npm on demand, never as dependencies of the project.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { processMemory } from './lsp';

export const BENCH_DIR = path.resolve(__dirname, '../../.bench');

export interface Peer {
  name: string;
  version: string;
  bin: string;
  args(file: string): string[];
}

interface PeerSpec {
  name: string;
  /** npm packages to install: the launcher and its Linux x64 binary. */
  packages: string[];
  /** The native binary, relative to .bench/node_modules (the launchers are Node scripts that spawn it). */
  bin: string;
  versionOf: string;
  args(file: string): string[];
}

const SPECS: PeerSpec[] = [
  {
    name: 'postgres-language-server',
    packages: ['@postgres-language-server/cli'],
    bin: '@postgres-language-server/cli-x86_64-linux-gnu/postgres-language-server',
    versionOf: '@postgres-language-server/cli',
    args: (file) => ['check', '--disable-db', '--files-max-size=4000000', file],
  },
  {
    name: 'squawk',
    packages: ['squawk-cli'],
    bin: '@squawk-cli/linux-x64/bin/squawk',
    versionOf: 'squawk-cli',
    args: (file) => [file],
  },
];

/** The peers found in .bench/ (installing the missing ones unless `install` is false), and why others are absent. */
export function findPeers(install: boolean, log: (line: string) => void): { peers: Peer[]; skipped: string[] } {
  const peers: Peer[] = [];
  const skipped: string[] = [];
  const modules = path.join(BENCH_DIR, 'node_modules');
  const missing = SPECS.filter((spec) => !existsSync(path.join(modules, spec.bin)));
  let installFailure: string | undefined;
  if (missing.length > 0 && install) {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      installFailure = `only the Linux x64 binaries are set up here (this is ${process.platform}-${process.arch})`;
    } else {
      // All in one npm install: a later `--no-save` install into the same prefix prunes what an earlier one added.
      const packages = SPECS.flatMap((spec) => spec.packages);
      log(`Installing ${packages.join(' ')} into .bench/ …`);
      const r = spawnSync('npm', ['install', '--prefix', BENCH_DIR, '--no-save', '--no-audit', '--no-fund', ...packages], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      if (r.status !== 0) installFailure = `npm install failed (${(r.stderr || r.error?.message || '').trim().split('\n').slice(-1)[0]})`;
    }
  }
  for (const spec of SPECS) {
    const bin = path.join(modules, spec.bin);
    if (!existsSync(bin) && installFailure) {
      skipped.push(`${spec.name}: ${installFailure}`);
      continue;
    }
    if (!existsSync(bin)) {
      skipped.push(`${spec.name}: not in .bench/ (${install ? 'the package has no Linux x64 binary' : '--quick never installs peers; a full run does'})`);
      continue;
    }
    let version = '?';
    try {
      version = (JSON.parse(readFileSync(path.join(modules, spec.versionOf, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // The version is for the report only.
    }
    peers.push({ name: spec.name, version, bin, args: spec.args });
  }
  return { peers, skipped };
}

export interface PeerRun {
  ms: number;
  peakMb: number;
  exitCode: number | null;
  /** Findings the peer printed, roughly (lines of output), to show it did look at the file. */
  outputLines: number;
}

/**
 * Wall time and peak RSS of one CLI run. Peak RSS from GNU time (`%M`, the kernel's maxrss of the child) when
 * /usr/bin/time exists, else from polling the process's VmHWM until it exits.
 */
export function runPeer(peer: Peer, file: string): Promise<PeerRun> {
  const gnuTime = existsSync('/usr/bin/time');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sqli-bench-peer-'));
  const rssFile = path.join(tmp, 'rss');
  const [cmd, args] = gnuTime ? ['/usr/bin/time', ['-f', '%M', '-o', rssFile, peer.bin, ...peer.args(file)]] : [peer.bin, peer.args(file)];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    const count = (d: Buffer): void => {
      for (const b of d) if (b === 10) lines++;
    };
    child.stdout.on('data', count);
    child.stderr.on('data', count);
    let polled = 0;
    const poll = gnuTime
      ? undefined
      : setInterval(() => {
          try {
            polled = Math.max(polled, processMemory(child.pid!).peakMb);
          } catch {
            // Exited between two polls.
          }
        }, 5);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = performance.now() - started;
      if (poll) clearInterval(poll);
      try {
        if (signal) throw new Error(`${peer.name} was killed by ${signal}`);
        // GNU time's own codes when the binary is missing or cannot run: a timing of nothing.
        if (code === 126 || code === 127) throw new Error(`${peer.name} did not run (exit ${code}): ${peer.bin}`);
        const peakMb = gnuTime ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024 : polled;
        resolve({ ms, peakMb, exitCode: code, outputLines: lines });
      } catch (e) {
        reject(e);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  });
}
