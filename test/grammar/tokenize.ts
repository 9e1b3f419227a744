/**
 * Tokenises JS/TS source the way VS Code does: vscode-textmate + the
 * oniguruma WASM, the real TypeScript/JavaScript/SQL grammars (VS Code's
 * own, as shipped in the `tm-grammars` package) and our injection grammars
 * wired up exactly as package.json `contributes.grammars` says.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface GrammarContribution {
  scopeName: string;
  path: string;
  injectTo?: string[];
  embeddedLanguages?: Record<string, string>;
}

export interface Token {
  line: number;
  text: string;
  scopes: string[];
}

/** Base grammars by scope name, from tm-grammars (MIT; VS Code's own grammars). */
const BASE_GRAMMARS: Record<string, string> = {
  'source.ts': 'typescript.json',
  'source.tsx': 'tsx.json',
  'source.js': 'javascript.json',
  'source.js.jsx': 'jsx.json',
  'source.sql': 'sql.json',
  'text.html.vue': 'vue.json',
};

function tmGrammarsDir(): string {
  // tm-grammars is an ES module package whose `exports` only expose
  // ./grammars/*; resolve its package directory through node_modules.
  return path.join(ROOT, 'node_modules', 'tm-grammars', 'grammars');
}

export function grammarContributions(): GrammarContribution[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    contributes?: { grammars?: GrammarContribution[] };
  };
  return manifest.contributes?.grammars ?? [];
}

let registryPromise: Promise<vsctm.Registry> | undefined;

/** A fresh registry (grammars are cached per registry, with the configuration of their first load). */
export async function createRegistry(): Promise<vsctm.Registry> {
  const wasm = fs.readFileSync(path.join(ROOT, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const onigLib: Promise<vsctm.IOnigLib> = Promise.resolve({
    createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s: string) => new oniguruma.OnigString(s),
  });
  const ours = grammarContributions();
  return new vsctm.Registry({
    onigLib,
    loadGrammar: async (scopeName) => {
      const contribution = ours.find((g) => g.scopeName === scopeName);
      const file = contribution
        ? path.join(ROOT, contribution.path)
        : BASE_GRAMMARS[scopeName] && path.join(tmGrammarsDir(), BASE_GRAMMARS[scopeName]);
      // Unknown scopes (CSS, HTML, … embedded by Vue) simply stay untokenised.
      if (!file) return null;
      return vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
    },
    // What VS Code does with `injectTo`.
    getInjections: (scopeName) => ours.filter((g) => g.injectTo?.includes(scopeName)).map((g) => g.scopeName),
  });
}

export function registry(): Promise<vsctm.Registry> {
  registryPromise ??= createRegistry();
  return registryPromise;
}

export async function loadGrammar(scopeName: string): Promise<vsctm.IGrammar> {
  const grammar = await (await registry()).loadGrammar(scopeName);
  if (!grammar) throw new Error(`no grammar for ${scopeName}`);
  return grammar;
}

export async function tokenize(source: string, scopeName: string): Promise<Token[]> {
  return tokenizeWith(await loadGrammar(scopeName), source);
}

export function tokenizeWith(grammar: vsctm.IGrammar, source: string): Token[] {
  const tokens: Token[] = [];
  let state = vsctm.INITIAL;
  source.split('\n').forEach((lineText, line) => {
    const result = grammar.tokenizeLine(lineText, state);
    for (const t of result.tokens) {
      tokens.push({ line, text: lineText.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    }
    state = result.ruleStack;
  });
  return tokens;
}

/** Pretty dump for failure messages and debugging. */
export function dump(tokens: Token[]): string {
  return tokens.map((t) => `${t.line}: ${JSON.stringify(t.text)}  ${t.scopes.join(' ')}`).join('\n');
}
