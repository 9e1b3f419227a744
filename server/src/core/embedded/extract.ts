// Finds SQL embedded in JS/TS files: tagged templates (postgres.js, slonik, Prisma, Drizzle, Kysely, ...), the
// first argument of `.query(…)`-style calls, and literals marked with a `/* sql */` comment. The host file is
// parsed with the TypeScript compiler so comments, regexes and nested templates never confuse the search; the
// compiler is loaded on first use so server start-up does not pay for it.
import type * as TS from 'typescript';
import type { RegionParam, SqlRegion } from '../regions';
import { cookInto } from './cook';
import { rewriteQuestionMarks, type PlaceholderStyle } from './placeholders';
import { RegionBuilder } from './segments';
import { startsLikeSql } from './sqlStart';

export interface ExtractOptions {
  /** Extra tag names, compared with the tag expression's text, e.g. `db.sql`. */
  tags?: string[];
  /** Extra callee names, compared with the last property name or the whole callee text, e.g. `db.execute`. */
  functions?: string[];
}

let tsModule: typeof TS | null | undefined;

/** The TypeScript compiler, loaded on first use; undefined when it is not installed. */
export function loadTypeScript(): typeof TS | undefined {
  if (tsModule === undefined) {
    try {
      tsModule = require('typescript') as typeof TS;
    } catch {
      tsModule = null;
    }
  }
  return tsModule ?? undefined;
}

export function scriptKindFor(ts: typeof TS, languageId: string): TS.ScriptKind | undefined {
  const id = languageId.trim().toLowerCase();
  switch (id) {
    case 'typescript':
      return ts.ScriptKind.TS;
    case 'typescriptreact':
      return ts.ScriptKind.TSX;
    case 'javascript':
      return ts.ScriptKind.JS;
    case 'javascriptreact':
      return ts.ScriptKind.JSX;
  }
  // Also accept a file extension or a file name.
  switch (/(?:^|\.)([a-z]+)$/.exec(id)?.[1]) {
    case 'ts':
    case 'mts':
    case 'cts':
      return ts.ScriptKind.TS;
    case 'tsx':
      return ts.ScriptKind.TSX;
    case 'js':
    case 'mjs':
    case 'cjs':
      return ts.ScriptKind.JS;
    case 'jsx':
      return ts.ScriptKind.JSX;
  }
  return undefined;
}

/**
 * All SQL regions of a JS/TS document, in document order. Never throws: input it cannot handle yields fewer
 * (possibly no) regions.
 */
export function extractSqlRegions(text: string, languageId: string, options?: ExtractOptions): SqlRegion[] {
  const found: SqlRegion[] = [];
  try {
    if (typeof text !== 'string' || typeof languageId !== 'string') return found;
    const ts = loadTypeScript();
    if (!ts) return found;
    const kind = scriptKindFor(ts, languageId);
    if (kind === undefined) return found;
    const sf = ts.createSourceFile('embedded', text, ts.ScriptTarget.Latest, false, kind);
    new Extractor(ts, sf, text, names(options?.tags), names(options?.functions), found).run();
  } catch {
    // Partial results are better than none.
  }
  return found;
}

function names(list: unknown): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(list)) for (const s of list) if (typeof s === 'string' && s.trim()) out.add(s.replace(/\s+/g, ''));
  return out;
}

/** Identifiers that are the SQL tag object itself in the supported libraries. */
const SQL_ROOTS = new Set(['sql', 'SQL']);
/** Helpers on the tag object that still send exactly one bound value (slonik, Drizzle, Kysely). */
const VALUE_HELPERS = new Set([
  'array', 'json', 'jsonb', 'binary', 'date', 'timestamp', 'interval', 'uuid', 'placeholder', 'param', 'val', 'value',
]);
/** Bare helper calls that splice SQL text in (`raw(…)` from sql-template-tag, Prisma's re-exports, ...). */
const SQL_HELPER_FUNCTIONS = new Set(['raw', 'join', 'identifier', 'unsafe', 'empty']);
/** Receivers of `.raw(…)` that are most likely a knex instance or transaction. */
const KNEX_LIKE = new Set(['knex', 'db', 'trx', 'tx', 'transaction', 'database', 'conn', 'connection', 'client', 'pg', 'sql']);
const DEFAULT_CALLS = new Set(['query', '$queryRawUnsafe', '$executeRawUnsafe', 'raw', 'unsafe']);
const MARKER = /^\/\*\s*sql\s*\*\/$/i;

type Mode = 'tagged' | 'concat';

class Extractor {
  private readonly claimed = new Set<TS.Node>();
  private fragmentVars: Set<string> | undefined;
  /** Last names of `functions` entries (`db.execute` → `execute`), for the cheap first test in callOrigin. */
  private readonly functionNames: Set<string>;

  constructor(
    private readonly ts: typeof TS,
    private readonly sf: TS.SourceFile,
    private readonly text: string,
    private readonly tags: Set<string>,
    private readonly functions: Set<string>,
    private readonly out: SqlRegion[],
  ) {
    this.functionNames = new Set([...functions].map((f) => f.slice(f.lastIndexOf('.') + 1)));
  }

  run(): void {
    // An explicit stack (long `a + b + c …` chains would overflow recursion), kept as two flat arrays because
    // this loop sees every node of the file and per-node allocations showed up as GC time.
    const nodes: TS.Node[] = [this.sf];
    const inFragments: boolean[] = [false];
    const pushChild = (c: TS.Node): undefined => {
      nodes.push(c);
      return undefined;
    };
    while (nodes.length > 0) {
      const node = nodes.pop()!;
      const inFragment = inFragments.pop()!;
      let next: { nodes: TS.Node[]; inFragment: boolean } | undefined;
      try {
        next = this.visit(node, inFragment);
      } catch {
        // One odd node must not cost the rest of the file.
      }
      const base = nodes.length;
      if (next) for (const c of next.nodes) nodes.push(c);
      else this.ts.forEachChild(node, pushChild);
      // Children were pushed in source order; reverse them so they pop in source order.
      for (let i = base, j = nodes.length - 1; i < j; i++, j--) {
        const t = nodes[i];
        nodes[i] = nodes[j];
        nodes[j] = t;
      }
      const flag = next ? next.inFragment : inFragment;
      while (inFragments.length < nodes.length) inFragments.push(flag);
    }
  }

  /** Emits the region at `node`, if any, and says which nodes to search next. */
  private visit(node: TS.Node, inFragment: boolean): { nodes: TS.Node[]; inFragment: boolean } | undefined {
    const ts = this.ts;
    if (ts.isTaggedTemplateExpression(node)) {
      const origin = this.tagOrigin(node.tag);
      if (origin === undefined) return undefined;
      // A fragment inside another SQL template's interpolation is part of that query, not a query of its own.
      if (inFragment) return { nodes: this.children(node), inFragment: true };
      const rest: TS.Node[] = [node.tag];
      const b = new RegionBuilder();
      const params: RegionParam[] = [];
      if (this.appendTemplate(node.template, b, params, 'tagged', 0, rest)) {
        this.out.push(b.build(node.template.end - 1, params, origin));
      }
      return { nodes: rest, inFragment: true };
    }
    if (ts.isCallExpression(node)) {
      const origin = this.callOrigin(node);
      const literal = origin === undefined ? undefined : this.sqlArgument(node);
      if (origin !== undefined && literal && this.emitLiteral(literal, origin, true)) {
        this.claimed.add(literal);
        const style = this.placeholderStyle(node);
        if (style) this.out.push(rewriteQuestionMarks(this.out.pop()!, style));
      }
      return undefined;
    }
    if (
      (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) &&
      !this.claimed.has(node) &&
      this.hasSqlMarker(node)
    ) {
      this.emitLiteral(node, '/* sql */ literal', false);
    }
    return undefined;
  }

  private children(node: TS.Node): TS.Node[] {
    const out: TS.Node[] = [];
    this.ts.forEachChild(node, (c) => {
      out.push(c);
    });
    return out;
  }

  private src(node: TS.Node): string {
    return this.text.slice(node.getStart(this.sf), node.end);
  }

  private compact(node: TS.Node): string {
    return this.src(node).replace(/\s+/g, '');
  }

  private unwrap(e: TS.Expression): TS.Expression {
    const ts = this.ts;
    while (
      ts.isParenthesizedExpression(e) ||
      ts.isAsExpression(e) ||
      ts.isNonNullExpression(e) ||
      ts.isSatisfiesExpression(e) ||
      ts.isTypeAssertionExpression(e)
    ) {
      e = e.expression;
    }
    return e;
  }

  // ---- recognising tags and calls ----

  private tagOrigin(tag: TS.Expression): string | undefined {
    const ts = this.ts;
    const text = this.compact(tag);
    const label = (t: string, lib?: string): string =>
      `${abbreviate(t)}\`…\` tagged template${lib ? ` (${lib})` : ''}`;
    if (this.tags.has(text)) return label(text);
    if (ts.isIdentifier(tag)) return SQL_ROOTS.has(tag.text) ? label(text) : undefined;
    if (ts.isPropertyAccessExpression(tag)) {
      const name = tag.name.text;
      if (name === '$queryRaw' || name === '$executeRaw') return label(text, 'Prisma');
      const base = this.compact(tag.expression);
      if (base === 'Prisma' && name === 'sql') return label(text, 'Prisma');
      if ((name === 'unsafe' || name === 'fragment') && this.isSqlRoot(base)) return label(text);
      return undefined;
    }
    if (ts.isCallExpression(tag) && ts.isPropertyAccessExpression(tag.expression)) {
      const name = tag.expression.name.text;
      if ((name === 'type' || name === 'typeAlias') && this.isSqlRoot(this.compact(tag.expression.expression))) {
        return label(`${this.compact(tag.expression)}(…)`, 'slonik');
      }
    }
    return undefined;
  }

  /** Tags whose templates are fragments that can be spliced into an enclosing SQL template. */
  private isFragmentTag(tag: TS.Expression): boolean {
    if (this.ts.isPropertyAccessExpression(tag) && /^\$(query|execute)Raw$/.test(tag.name.text)) return false;
    return this.tagOrigin(tag) !== undefined;
  }

  private isSqlRoot(compactText: string): boolean {
    return SQL_ROOTS.has(compactText) || compactText === 'Prisma' || this.tags.has(compactText);
  }

  private callOrigin(call: TS.CallExpression): string | undefined {
    const ts = this.ts;
    const callee = call.expression;
    let name: string;
    if (ts.isIdentifier(callee)) name = callee.text;
    else if (ts.isPropertyAccessExpression(callee)) name = callee.name.text;
    else return undefined;
    // Cheap name test first: the callee text of a long builder chain is long, and every call in it gets here.
    if (!DEFAULT_CALLS.has(name) && !this.functionNames.has(name)) return undefined;
    const text = this.compact(callee);
    const label = `${abbreviate(text)}(…) call`;
    if (this.functions.has(text) || this.functions.has(name)) return label;
    if (!ts.isPropertyAccessExpression(callee)) return undefined;
    switch (name) {
      case 'query':
      case '$queryRawUnsafe':
      case '$executeRawUnsafe':
        return label;
      case 'raw': {
        const receiver = this.compact(callee.expression);
        const last = /[A-Za-z_$][\w$]*$/.exec(receiver)?.[0] ?? '';
        return /knex/i.test(receiver) || KNEX_LIKE.has(last.toLowerCase()) ? label : undefined;
      }
      case 'unsafe': // postgres.js sql.unsafe('…')
        return this.isSqlRoot(this.compact(callee.expression)) ? label : undefined;
    }
    return undefined;
  }

  /** knex's `.raw('… ? …')` and Sequelize's `.query('… ? … :name …')` use client-side placeholders. */
  private placeholderStyle(call: TS.CallExpression): PlaceholderStyle | undefined {
    const callee = call.expression;
    if (!this.ts.isPropertyAccessExpression(callee)) return undefined;
    const name = callee.name.text;
    if (name === 'raw') return { named: false };
    if (name === 'query' && /sequelize/i.test(this.compact(callee.expression))) return { named: true };
    return undefined;
  }

  /** The literal holding the SQL of a recognised call: its first argument, or pg's `{ text: '…' }` config. */
  private sqlArgument(call: TS.CallExpression): TS.Expression | undefined {
    const ts = this.ts;
    if (call.arguments.length === 0) return undefined;
    const arg = this.unwrap(call.arguments[0]);
    if (this.isLiteral(arg)) return arg;
    if (ts.isObjectLiteralExpression(arg)) {
      for (const p of arg.properties) {
        if (
          ts.isPropertyAssignment(p) &&
          (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) &&
          p.name.text === 'text'
        ) {
          const init = this.unwrap(p.initializer);
          return this.isLiteral(init) ? init : undefined;
        }
      }
    }
    return undefined;
  }

  private isLiteral(e: TS.Node): e is TS.StringLiteral | TS.NoSubstitutionTemplateLiteral | TS.TemplateExpression {
    const ts = this.ts;
    return ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isTemplateExpression(e);
  }

  private hasSqlMarker(node: TS.Node): boolean {
    if (node.getStart(this.sf) === node.pos) return false;
    // A comment on the same line as the previous token counts as that token's trailing comment to TypeScript.
    const ranges = [
      ...(this.ts.getTrailingCommentRanges(this.text, node.pos) ?? []),
      ...(this.ts.getLeadingCommentRanges(this.text, node.pos) ?? []),
    ];
    const last = ranges.reduce<TS.CommentRange | undefined>((a, r) => (a && a.end > r.end ? a : r), undefined);
    return (
      last !== undefined &&
      last.kind === this.ts.SyntaxKind.MultiLineCommentTrivia &&
      MARKER.test(this.text.slice(last.pos, last.end))
    );
  }

  // ---- building regions ----

  /** Emits a region for an untagged literal; `requireSql` skips strings that do not start like a statement. */
  private emitLiteral(node: TS.Expression, origin: string, requireSql: boolean): boolean {
    const ts = this.ts;
    const b = new RegionBuilder();
    const params: RegionParam[] = [];
    if (ts.isStringLiteral(node)) {
      if (node.isUnterminated || (requireSql && !startsLikeSql(node.text))) return false;
      cookInto(b, this.text, node.getStart(this.sf) + 1, node.end - 1, false);
    } else if (ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) {
      const head = ts.isTemplateExpression(node) ? node.head : node;
      if (requireSql && !startsLikeSql(head.text)) return false;
      if (!this.appendTemplate(node, b, params, 'concat', highestPlaceholder(node), undefined)) return false;
    } else {
      return false;
    }
    this.out.push(b.build(node.end - 1, params, origin));
    return true;
  }

  /**
   * Appends a template's cooked text. In `tagged` mode interpolations become bound values `$1, $2, …` and
   * nested SQL fragments are inlined; in `concat` mode (plain templates: JS string concatenation) every
   * interpolation is unknown SQL, numbered after the highest `$n` the text already uses. Interpolation
   * expressions go to `rest` so the caller can search them for further SQL. False when unterminated.
   */
  private appendTemplate(
    template: TS.TemplateLiteral,
    b: RegionBuilder,
    params: RegionParam[],
    mode: Mode,
    base: number,
    rest: TS.Node[] | undefined,
  ): boolean {
    const ts = this.ts;
    const text = this.text;
    if (ts.isNoSubstitutionTemplateLiteral(template)) {
      if (template.isUnterminated) return false;
      cookInto(b, text, template.getStart(this.sf) + 1, template.end - 1, true);
      return true;
    }
    const head = template.head;
    if (head.isUnterminated) return false;
    cookInto(b, text, head.getStart(this.sf) + 1, head.end - 2, true);
    let dollar = head.end - 2;
    for (const span of template.templateSpans) {
      const lit = span.literal;
      if (lit.isUnterminated) return false;
      const close = lit.getStart(this.sf);
      const expr = this.unwrap(span.expression);
      if (mode === 'tagged' && ts.isTaggedTemplateExpression(expr) && this.isFragmentTag(expr.tag)) {
        rest?.push(expr.tag);
        if (!this.appendTemplate(expr.template, b, params, mode, base, rest)) return false;
      } else {
        const index = base + params.length + 1;
        const kind = mode === 'tagged' ? this.interpolationKind(expr) : 'unknown';
        params.push({ index, source: this.src(span.expression), kind });
        b.atomic(`$${index}`, dollar, close + 1);
        rest?.push(span.expression);
      }
      const tail = ts.isTemplateTail(lit);
      cookInto(b, text, close + 1, lit.end - (tail ? 1 : 2), true);
      dollar = lit.end - 2;
    }
    return true;
  }

  // ---- what an interpolation in a tagged template is ----

  private interpolationKind(expr: TS.Expression): RegionParam['kind'] {
    // Most interpolations are a bare name; spare them the general search.
    if (this.ts.isIdentifier(expr)) return this.fragmentVariables().has(expr.text) ? 'unknown' : 'value';
    return this.splicesSql(expr) ? 'unknown' : 'value';
  }

  /**
   * Whether an interpolation (or anything inside it, e.g. `cond ? sql\`…\` : sql\`\``) produces SQL text
   * rather than a value. An awaited query inside it is a value, so awaits are not searched.
   */
  private splicesSql(expr: TS.Node): boolean {
    const ts = this.ts;
    const stack: TS.Node[] = [expr];
    for (let seen = 0; stack.length > 0 && seen < 2000; seen++) {
      const node = stack.pop()!;
      if (ts.isAwaitExpression(node)) continue;
      if (this.isSqlProducer(node)) return true;
      if (ts.isIdentifier(node) && this.fragmentVariables().has(node.text)) return true;
      ts.forEachChild(node, (c) => {
        stack.push(c);
      });
    }
    return false;
  }

  /** A fragment value as a variable initialiser: `sql\`…\``, `sql.join(…)`, `a ? sql\`…\` : Prisma.empty`. */
  private isFragmentExpression(e: TS.Expression): boolean {
    const ts = this.ts;
    e = this.unwrap(e);
    if (this.isSqlProducer(e)) return true;
    if (ts.isConditionalExpression(e)) return this.isFragmentExpression(e.whenTrue) || this.isFragmentExpression(e.whenFalse);
    if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (
        op === ts.SyntaxKind.BarBarToken ||
        op === ts.SyntaxKind.AmpersandAmpersandToken ||
        op === ts.SyntaxKind.QuestionQuestionToken
      ) {
        return this.isFragmentExpression(e.left) || this.isFragmentExpression(e.right);
      }
    }
    return false;
  }

  private isSqlProducer(node: TS.Node): boolean {
    const ts = this.ts;
    if (ts.isTaggedTemplateExpression(node)) return this.isFragmentTag(node.tag);
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (ts.isIdentifier(callee)) {
        return SQL_ROOTS.has(callee.text) || SQL_HELPER_FUNCTIONS.has(callee.text) || this.tags.has(callee.text);
      }
      if (ts.isPropertyAccessExpression(callee)) {
        return this.isSqlRoot(this.compact(callee.expression)) && !VALUE_HELPERS.has(callee.name.text);
      }
      return false;
    }
    if (ts.isPropertyAccessExpression(node)) {
      return node.name.text === 'empty' && this.isSqlRoot(this.compact(node.expression));
    }
    return false;
  }

  /** Names of variables initialised with SQL fragments (`const where = sql\`…\``), found on first need. */
  private fragmentVariables(): Set<string> {
    if (this.fragmentVars) return this.fragmentVars;
    const ts = this.ts;
    const found = new Set<string>();
    const stack: TS.Node[] = [this.sf];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
        if (this.isFragmentExpression(node.initializer)) found.add(node.name.text);
      }
      ts.forEachChild(node, (c) => {
        stack.push(c);
      });
    }
    this.fragmentVars = found;
    return found;
  }
}

function abbreviate(s: string): string {
  return s.length <= 40 ? s : `…${s.slice(s.length - 39)}`;
}

/** The highest `$n` a plain template already uses, so concatenated pieces get numbers after it. */
function highestPlaceholder(node: TS.NoSubstitutionTemplateLiteral | TS.TemplateExpression): number {
  const pieces = 'head' in node ? [node.head.text, ...node.templateSpans.map((s) => s.literal.text)] : [node.text];
  let max = 0;
  for (const piece of pieces) for (const m of piece.matchAll(/\$(\d+)/g)) max = Math.max(max, Number(m[1]));
  return max;
}
