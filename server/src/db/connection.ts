// Which database to plan against, and how to talk about it without leaking a password.
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import type { ConnectionOptions } from 'tls';
import type { PoolConfig } from 'pg';
import { postgresUrlParts, SSL_MODES, type SqlInsightSettings, type SslMode } from '../../../common/protocol';

export type ConnectionSource = 'setting' | 'DATABASE_URL' | 'libpq' | 'none';

export interface ResolvedConnection {
  source: ConnectionSource;
  /** Passed to `pg.Pool`; for `libpq`, pg also reads `~/.pgpass` (and any PG* variable we did not copy) itself. */
  config: PoolConfig;
  /** Stable identity of the target (changes when any part of it, password included, changes); for caching planners. */
  key: string;
  /** Human-readable target, e.g. `app_dev@localhost:5432`; never contains a password. */
  label: string;
  /** Literal secrets to scrub from any message about this connection. */
  secrets: string[];
  /** `user@host:port/database`: what a password stored in the editor's secret storage is filed under. */
  passwordKey: string;
  /** True when the URL or PGPASSWORD carries a password (a stored one is then not consulted). */
  hasPassword: boolean;
  /** TLS as asked for by the settings, the URL (`sslmode`, `sslrootcert`) or PGSSLMODE / PGSSLROOTCERT. */
  tls: TlsRequest;
}

export interface TlsRequest {
  mode: SslMode;
  /** CA certificate file (PEM); empty: the system's trusted roots. */
  caFile: string;
}

/** URL parameters we interpret ourselves (and so remove before node-postgres sees the URL). */
const TLS_URL_PARAMS = ['sslmode', 'sslrootcert', 'uselibpqcompat'];

// Variables that pick a libpq target. Deliberately not every PG* name: PGDATA and friends are set on
// server machines and in postgres images and say nothing about where a client should connect.
const LIBPQ_TARGET_VARS = [
  'PGHOST',
  'PGHOSTADDR',
  'PGPORT',
  'PGDATABASE',
  'PGUSER',
  'PGPASSWORD',
  'PGPASSFILE',
  'PGSERVICE',
] as const;

export function resolveConnection(settings: SqlInsightSettings, env: NodeJS.ProcessEnv): ResolvedConnection {
  const resolved = resolveTarget(settings, env);
  // The settings' TLS choice wins over the URL's and the environment's.
  if (settings.ssl?.mode) resolved.tls.mode = settings.ssl.mode;
  if (settings.ssl?.caFile) resolved.tls.caFile = settings.ssl.caFile;
  resolved.key = `${resolved.key}:${resolved.tls.mode}:${resolved.tls.caFile}`;
  return resolved;
}

function resolveTarget(settings: SqlInsightSettings, env: NodeJS.ProcessEnv): ResolvedConnection {
  const fromSetting = (settings.databaseUrl ?? '').trim();
  if (fromSetting) return fromUrl('setting', fromSetting, env);

  const fromEnv = (env.DATABASE_URL ?? '').trim();
  if (fromEnv) return fromUrl('DATABASE_URL', fromEnv, env);

  if (LIBPQ_TARGET_VARS.some((v) => nonEmpty(env[v]))) return fromLibpq(env);

  return {
    source: 'none',
    config: {},
    key: 'none',
    label: 'not configured',
    secrets: [],
    passwordKey: '',
    hasPassword: false,
    tls: { mode: 'disable', caFile: '' },
  };
}

function fromUrl(source: 'setting' | 'DATABASE_URL', url: string, env: NodeJS.ProcessEnv): ResolvedConnection {
  const parsed = parseUrl(url);
  const secrets = parsed?.password ? [parsed.password, encodeURIComponent(parsed.password)] : [];
  const user = parsed?.user || defaultUser(env);
  const host = parsed?.host || 'localhost';
  const port = parsed?.port || '5432';
  const database = parsed?.database || user;
  const label = parsed ? makeLabel(database, host, port) : 'unparseable connection URL';
  const tls = { mode: sslMode(parsed?.sslmode) ?? sslMode(env.PGSSLMODE) ?? 'disable', caFile: parsed?.sslrootcert || env.PGSSLROOTCERT || '' };
  return {
    source,
    config: { connectionString: withoutParams(url, TLS_URL_PARAMS) },
    key: makeKey(source, label, url),
    label,
    secrets,
    passwordKey: `${user}@${host}:${port}/${database}`,
    hasPassword: Boolean(parsed?.password),
    tls,
  };
}

/**
 * node-postgres TLS options for a request, libpq's meanings: `require` encrypts without checking the
 * certificate (unless a CA file is given: then as `verify-ca`), `verify-ca` checks the chain, `verify-full`
 * the chain and the host name. `prefer` and `allow` connect without TLS: node-postgres cannot fall back.
 * Reads the CA file; throws when it cannot.
 */
export function tlsOptions(tls: TlsRequest): false | ConnectionOptions {
  if (tls.mode === 'disable' || tls.mode === 'prefer') return false;
  const ca = tls.caFile ? readFileSync(tls.caFile, 'utf8') : undefined;
  const base: ConnectionOptions = ca ? { ca } : {};
  if (tls.mode === 'require' && !ca) return { ...base, rejectUnauthorized: false };
  if (tls.mode === 'verify-full') return { ...base, rejectUnauthorized: true };
  // verify-ca, and require with a CA file: the chain is checked, the host name is not.
  return { ...base, rejectUnauthorized: true, checkServerIdentity: () => undefined };
}

function sslMode(v: string | undefined | null): SslMode | undefined {
  const m = (v ?? '').trim().toLowerCase();
  if (m === 'allow') return 'prefer';
  return (SSL_MODES as readonly string[]).includes(m) ? (m as SslMode) : undefined;
}

function withoutParams(url: string, names: string[]): string {
  try {
    const u = new URL(url);
    if (!names.some((n) => u.searchParams.has(n))) return url;
    for (const n of names) u.searchParams.delete(n);
    return u.toString();
  } catch {
    return url;
  }
}

function fromLibpq(env: NodeJS.ProcessEnv): ResolvedConnection {
  const config: PoolConfig = {};
  const host = nonEmpty(env.PGHOST) ? env.PGHOST : nonEmpty(env.PGHOSTADDR) ? env.PGHOSTADDR : undefined;
  if (host) config.host = host;
  const port = Number(env.PGPORT);
  if (nonEmpty(env.PGPORT) && Number.isInteger(port) && port > 0) config.port = port;
  if (nonEmpty(env.PGDATABASE)) config.database = env.PGDATABASE;
  if (nonEmpty(env.PGUSER)) config.user = env.PGUSER;
  // Left undefined otherwise so that pg falls back to ~/.pgpass (PGPASSFILE) by itself.
  if (nonEmpty(env.PGPASSWORD)) config.password = env.PGPASSWORD;

  const user = config.user ?? defaultUser(env);
  const label = makeLabel(config.database ?? user, config.host ?? 'localhost', String(config.port ?? 5432));
  const identity = JSON.stringify([config.host, config.port, config.database, config.user, config.password, env.PGPASSFILE, env.PGSERVICE]);
  const secrets = nonEmpty(env.PGPASSWORD) ? [env.PGPASSWORD] : [];
  return {
    source: 'libpq',
    config,
    key: makeKey('libpq', label, identity),
    label,
    secrets,
    passwordKey: `${user}@${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? user}`,
    hasPassword: nonEmpty(env.PGPASSWORD),
    tls: { mode: sslMode(env.PGSSLMODE) ?? 'disable', caFile: env.PGSSLROOTCERT ?? '' },
  };
}

interface UrlParts {
  user: string;
  password: string;
  host: string;
  port: string;
  database: string;
  sslmode: string | null;
  sslrootcert: string | null;
}

function parseUrl(url: string): UrlParts | undefined {
  const p = postgresUrlParts(url);
  if (!p) return undefined;
  const { user, password, host, port, database } = p;
  return { user, password, host, port, database, sslmode: p.params.get('sslmode'), sslrootcert: p.params.get('sslrootcert') };
}

function makeLabel(database: string, host: string, port: string): string {
  return maskSecrets(`${database}@${host}:${port}`);
}

function makeKey(source: ConnectionSource, label: string, identity: string): string {
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return `${source}:${label}:${digest}`;
}

function defaultUser(env: NodeJS.ProcessEnv): string {
  return env.USER || env.USERNAME || 'postgres';
}

function nonEmpty(v: string | undefined): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

/**
 * Removes passwords from text: the password part of `scheme://user:password@host` URLs, `password=...`
 * parameters, and any of the given literal secrets (e.g. the configured password, should a server or
 * driver message ever echo it).
 */
export function maskSecrets(text: string, secrets: readonly string[] = []): string {
  let out = String(text);
  for (const s of secrets) {
    // Very short secrets would turn every message into asterisks; the patterns below still catch them in URLs.
    if (s && s.length >= 3) out = out.split(s).join('***');
  }
  // Greedy up to the last `@` before the host, so unencoded `@` in a password does not leak its tail.
  out = out.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):([^\s/]*)@/gi, '$1$2:***@');
  out = out.replace(/\b(password|passwd|pwd|pgpassword)(\s*=\s*)('[^']*'|"[^"]*"|[^\s&;]*)/gi, '$1$2***');
  return out;
}

/**
 * The same target with a stored password filled in, for a URL that names none; a password written in the
 * URL always wins. libpq targets are left alone (they have PGPASSWORD and ~/.pgpass).
 */
export function withPassword(c: ResolvedConnection, password: string, env: NodeJS.ProcessEnv): ResolvedConnection {
  if ((c.source !== 'setting' && c.source !== 'DATABASE_URL') || !password) return c;
  let u: URL;
  try {
    u = new URL(String(c.config.connectionString ?? ''));
  } catch {
    return c;
  }
  if (u.password || u.searchParams.has('password')) return c;
  u.password = encodeURIComponent(password);
  const filled = fromUrl(c.source, u.toString(), env);
  // The URL here has already lost its TLS parameters (resolveConnection took them out): keep what it found.
  return { ...filled, tls: c.tls, key: `${filled.key}:${c.tls.mode}:${c.tls.caFile}` };
}
