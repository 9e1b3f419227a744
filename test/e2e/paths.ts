// Where the end-to-end harness keeps things. Everything it installs or writes lives under .e2e/ (ignored).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');
export const E2E = path.join(ROOT, '.e2e');
export const CODE_SERVER_VERSION = '4.100.3';
export const CODE_SERVER = path.join(E2E, 'code-server/node_modules/code-server');
export const CHROMIUM = '/usr/bin/chromium';
/** Scratch folder of one run: HOME, XDG_*, TMPDIR, VS Code's user data and extensions, workspaces. */
export const RUN = path.join(E2E, 'run');
/** Screenshots of failures and of the passing hover. */
export const ARTIFACTS = path.join(E2E, 'artifacts');

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; publisher: string; version: string };
export const EXTENSION_ID = `${manifest.publisher}.${manifest.name}`;
/** What `npm run package` writes. */
export const VSIX = path.join(ROOT, `${manifest.name}-${manifest.version}.vsix`);
