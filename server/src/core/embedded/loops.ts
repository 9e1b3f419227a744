// Which SQL regions of a JS/TS file run once per iteration of a loop: inside the body of a `for`, `for…of`,
// `for…in`, `while` or `do` statement, or inside the callback of `.forEach(…)`, or of `.map(…)`/`.flatMap(…)`
// when that callback awaits (one query per element). Used by the n-plus-one rule; never throws.
import type * as TS from 'typescript';
import type { HostLoop, SqlRegion } from '../regions';
import { loadTypeScript, scriptKindFor } from './extract';

/** Sets `region.loop` on every region that runs once per iteration. */
export function annotateLoops(text: string, languageId: string, regions: SqlRegion[]): void {
  if (regions.length === 0) return;
  try {
    const ts = loadTypeScript();
    const kind = ts && scriptKindFor(ts, languageId);
    if (!ts || kind === undefined) return;
    const sf = ts.createSourceFile('loops', text, ts.ScriptTarget.Latest, true, kind);
    for (const region of regions) {
      const start = region.toHost(0);
      const node = innermostAt(ts, sf, start);
      const loop = node && enclosingLoop(ts, sf, node);
      if (loop) region.loop = loop;
    }
  } catch {
    // No loop information is better than no analysis.
  }
}

function innermostAt(ts: typeof TS, sf: TS.SourceFile, offset: number): TS.Node | undefined {
  let found: TS.Node | undefined;
  const visit = (n: TS.Node): void => {
    if (offset < n.getStart(sf) || offset >= n.end) return;
    found = n;
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(sf, visit);
  return found;
}

function enclosingLoop(ts: typeof TS, sf: TS.SourceFile, node: TS.Node): HostLoop | undefined {
  const line = (n: TS.Node): number => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
  let child: TS.Node = node;
  for (let p = node.parent; p; child = p, p = p.parent) {
    if (ts.isForOfStatement(p) && child === p.statement) return { kind: p.awaitModifier ? 'for await…of' : 'for…of', line: line(p) };
    if (ts.isForInStatement(p) && child === p.statement) return { kind: 'for…in', line: line(p) };
    if (ts.isForStatement(p) && child === p.statement) return { kind: 'for', line: line(p) };
    if (ts.isWhileStatement(p) && child === p.statement) return { kind: 'while', line: line(p) };
    if (ts.isDoStatement(p) && child === p.statement) return { kind: 'do…while', line: line(p) };
    if (ts.isFunctionLike(p)) {
      const call = p.parent;
      if (call && ts.isCallExpression(call) && call.arguments[0] === p && ts.isPropertyAccessExpression(call.expression)) {
        const method = call.expression.name.text;
        if (method === 'forEach') return { kind: '.forEach', line: line(call) };
        if ((method === 'map' || method === 'flatMap') && awaits(ts, p)) return { kind: `.${method}`, line: line(call) };
      }
      // Any other function boundary: whether it runs per iteration is not known here.
      return undefined;
    }
  }
  return undefined;
}

/** An async callback, or one with an `await` of its own (not in a nested function). */
function awaits(ts: typeof TS, fn: TS.SignatureDeclaration): boolean {
  if (ts.getCombinedModifierFlags(fn as TS.Declaration) & ts.ModifierFlags.Async) return true;
  let found = false;
  const visit = (n: TS.Node): void => {
    if (found || (n !== fn && ts.isFunctionLike(n))) return;
    if (ts.isAwaitExpression(n)) found = true;
    else ts.forEachChild(n, visit);
  };
  visit(fn);
  return found;
}
