// implicit-cast-defeats-index: the column and the value have different types, PostgreSQL casts the column to
// compare them (`(id)::numeric = 42.5`, `(ref_code)::text = $1`), and the index on the column no longer applies.
import { nodeSpan, resolveColumn } from '../ast';
import { isIndexScan } from '../plan';
import { blockComparisons, columnChecker, othersIndependentOf, plainColumn } from '../predicates';
import { scanNodesFor } from '../scans';
import { describeSize, isLarge } from '../size';
import { formatNumber } from '../sqlText';
import { sameDefault, type Finding, type PlanRule, type RuleContext } from './types';

export const implicitCastDefeatsIndex: PlanRule = {
  id: 'implicit-cast-defeats-index',
  title: 'A comparison with a value of another type makes PostgreSQL cast the indexed column',
  needs: 'plan',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const { stmt } = ctx;
    if (!stmt.parse.ok) return [];
    const conv = stmt.parse.conv;
    const findings: Finding[] = [];
    const seen = new Set<unknown>();
    for (const block of stmt.blocks) {
      for (const cmp of blockComparisons(block)) {
        if (cmp.kind === 'like' || seen.has(cmp.node)) continue;
        const ref = plainColumn(cmp.subject);
        if (!ref) continue;
        const table = resolveColumn(ref, block, columnChecker(ctx.relation));
        const info = table && ctx.relation(table);
        if (!table || !info || !othersIndependentOf(cmp.others, table, block, ctx.relation)) continue;
        const column = info.columns.find((c) => c.name === ref.column);
        const index = info.indexes.find((i) => i.keyColumns[0] === ref.column && i.predicate === null && i.method === 'btree');
        if (!column || !index) continue;
        const size = ctx.size(table);
        if (!isLarge(size, ctx.settings)) continue;
        const scans = scanNodesFor(ctx.plan, table, ctx.relation);
        if (scans.length === 0 || scans.some((n) => isIndexScan(n) && conditionMentions(n, ref.column))) continue;
        const cast = scans.map((n) => castOf(n, ref.column)).find((c) => c !== undefined);
        if (!cast || harmless(column.type, cast)) continue;
        const span = nodeSpan(cmp.node, stmt.tokens, conv);
        if (!span) continue;
        seen.add(cmp.node);
        const scan = scans[0];
        findings.push({
          ruleId: this.id,
          message:
            `\`${stmt.text.slice(span.start, span.end)}\` compares ${table.relname}.${ref.column} (${column.type}) with a ` +
            `${cast} value, so PostgreSQL casts the column — (${ref.column})::${cast} — and the index ${index.name} ` +
            `cannot be used: ${scan['Node Type']} on ${table.relname} reads ${describeSize(size, formatNumber)} ` +
            `(cost ${formatNumber(scan['Total Cost'])}). Compare with a ${column.type} value instead ` +
            `(a literal of that type, or a parameter cast to it: \`$1::${column.type}\`).`,
          span,
          table,
        });
      }
    }
    return findings;
  },
};

/** The type the plan casts `column` to in a scan's conditions: `(t.col)::numeric` → `numeric`. */
function castOf(node: { Filter?: string; 'Recheck Cond'?: string; 'Index Cond'?: string }, column: string): string | undefined {
  const col = column.replace(/[^A-Za-z0-9_]/g, '');
  const re = new RegExp(`\\((?:[A-Za-z0-9_"]+\\.)?"?${col}"?\\)::([a-z][a-z0-9_ ]*?(?:\\(\\d+(?:,\\d+)?\\))?)(?=[\\s)=<>!~,]|$)`);
  for (const text of [node.Filter, node['Recheck Cond']]) {
    const m = text ? re.exec(text) : null;
    if (m) return m[1].trim();
  }
  return undefined;
}

function conditionMentions(node: { 'Index Cond'?: string; 'Recheck Cond'?: string }, column: string): boolean {
  const re = new RegExp(`\\b${column.replace(/[^A-Za-z0-9_]/g, '')}\\b`);
  return re.test(node['Index Cond'] ?? '') || re.test(node['Recheck Cond'] ?? '');
}

/** Casts that are only relabels for the index (`varchar` is indexed with text's operator class). */
function harmless(columnType: string, cast: string): boolean {
  return /^character varying/.test(columnType) && cast === 'text';
}
