// function-on-indexed-column: `WHERE lower(email) = …` where `email` is indexed but the plan cannot use
// that index, because the index holds `email`, not `lower(email)`.
import { nodeSpan } from '../ast';
import { indexElement, indexFix, unqualifiedSource } from '../indexFix';
import { scanNodesFor } from '../scans';
import { isIndexScan } from '../plan';
import { blockComparisons, columnChecker, othersIndependentOf, wrappedColumn } from '../predicates';
import { resolveColumn } from '../ast';
import { formatNumber } from '../sqlText';
import { specBase } from '../advisor';
import { sameDefault, type Finding, type PlanRule, type RuleContext } from './types';

export const functionOnIndexedColumn: PlanRule = {
  id: 'function-on-indexed-column',
  title: 'A function, cast or arithmetic around an indexed column keeps its index from being used',
  needs: 'plan',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const { stmt } = ctx;
    if (!stmt.parse.ok) return [];
    const conv = stmt.parse.conv;
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const block of stmt.blocks) {
      for (const cmp of blockComparisons(block)) {
        const ref = wrappedColumn(cmp.subject);
        if (!ref) continue;
        const table = resolveColumn(ref, block, columnChecker(ctx.relation));
        if (!table) continue;
        const info = ctx.relation(table);
        if (!info) continue;
        if (!othersIndependentOf(cmp.others, table, block, ctx.relation)) continue;
        const index = info.indexes.find((i) => i.keyColumns[0] === ref.column && i.predicate === null);
        if (!index) continue;
        const scans = scanNodesFor(ctx.plan, table, ctx.relation);
        if (scans.length === 0) continue;
        const servedByIndex = scans.some(
          (n) => isIndexScan(n) || (n['Node Type'] === 'Bitmap Heap Scan' && mentions(n['Recheck Cond'], ref.column)),
        );
        if (servedByIndex) continue;
        const span = nodeSpan(cmp.subject, stmt.tokens, conv);
        if (!span) continue;
        const key = `${span.start}:${span.end}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const written = stmt.text.slice(span.start, span.end);
        const expr = unqualifiedSource(stmt.text, span, [ref], stmt.tokens, conv);
        const scan = scans[0];
        const column = info.columns.find((c) => c.name === ref.column);
        findings.push({
          ruleId: this.id,
          message:
            `\`${written}\` wraps the indexed column ${table.relname}.${ref.column}, so the index ` +
            `${index.name} cannot be used for this predicate: ${scan['Node Type']} on ${table.relname} ` +
            `(cost ${formatNumber(scan['Total Cost'])}). An expression index on (${expr}) would serve it` +
            (column && isTimestampTz(column.type) && DATE_WRAPPERS.test(written) && !/\bat\s+time\s+zone\b/i.test(written)
              ? `, but ${column.type} → date depends on the time zone and cannot be indexed: rewrite the predicate ` +
                `as a range on the bare column (\`${ref.column} >= … AND ${ref.column} < …\`).`
              : '.'),
          span,
          table,
          fixes: [
            indexFix({
              ...specBase(table, info),
              elements: [indexElement(expr, Boolean(cmp.subject.FuncCall))],
              nameParts: expressionWords(expr),
              expression: true,
            }),
          ],
        });
      }
    }
    return findings;
  },
};

const DATE_WRAPPERS = /date_trunc|::\s*date|\bdate\s*\(|cast\s*\(.*\bas\s+date\b/i;

function isTimestampTz(type: string): boolean {
  return type === 'timestamp with time zone';
}

function mentions(cond: string | undefined, column: string): boolean {
  return cond !== undefined && new RegExp(`\\b${column.replace(/[^a-zA-Z0-9_]/g, '')}\\b`).test(cond);
}

function expressionWords(expr: string): string[] {
  return expr.split(/[^A-Za-z0-9_]+/).filter((w) => w && !/^\d+$/.test(w) && w.toLowerCase() !== 'text');
}
