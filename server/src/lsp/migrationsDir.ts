// Reads what the core needs to write a migration in the folder's own style: the entry names, and the first
// lines of Python revision files (Alembic keeps its revision ids there). Missing folders are no error.
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MigrationDirListing } from '../core/migrations';

const MAX_HEADS = 500;
const HEAD_BYTES = 2048;

export function listMigrationsDir(dirUri: string): MigrationDirListing | undefined {
  if (!dirUri.startsWith('file:')) return undefined;
  try {
    const dir = fileURLToPath(dirUri);
    const dirents = readdirSync(dir, { withFileTypes: true });
    const entries = dirents.map((d) => (d.isDirectory() ? `${d.name}/` : d.name));
    const heads: Record<string, string> = {};
    for (const name of entries.filter((e) => e.endsWith('.py') && e !== '__init__.py').slice(0, MAX_HEADS)) {
      heads[name] = readHead(path.join(dir, name));
    }
    return { entries, heads };
  } catch {
    return undefined;
  }
}

function readHead(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const n = readSync(fd, buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
