// index-then-filter: an index finds rows by one column and a Filter then throws most of them away on an
// equality the index does not have. With EXPLAIN ANALYZE the plan says how many rows were removed; without
// it, pg_stats says how selective the filter is. A composite index with the filter column finds only the rows.
import { nodeSpan, resolveColumn, type TableRef } from '../ast';
import { adviseIndexes, constantValue } from '../advisor';
import type { AstNode } from '../parse';
import { planNodes, type PlanNode } from '../plan';
import type { ColumnInfo, RelationInfo } from '../ports';
import { blockComparisons, columnChecker, othersIndependentOf, plainColumn } from '../predicates';
import { tableOfNode } from '../scans';
import { nodeFactor } from '../size';
import { formatNumber } from '../sqlText';
import { sameDefault, type Finding, type PlanRule, type RuleContext } from './types';

const INDEX_SCANS = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan']);
/** The filter must remove at least this share of the rows the index found… */
const MIN_REMOVED_SHARE = 0.9;

export const indexThenFilter: PlanRule = {
  id: 'index-then-filter',
  title: 'An index scan that then filters away most rows on another equality column',
  needs: 'plan',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const { stmt, settings } = ctx;
    // Row counts of empty tables (the embedded engine without row counts) say nothing about size.
    if (!stmt.parse.ok || ctx.statistics === 'none') return [];
    // …and the index must find at least this many rows for the waste to matter.
    const minRead = Math.max(100, settings.seqScanMinRows / 10);
    const findings: Finding[] = [];
    const seen = new Set<TableRef>();
    for (const scan of planNodes(ctx.plan)) {
      if (!INDEX_SCANS.has(scan['Node Type']) || !scan.Filter) continue;
      const table = tableOfNode(stmt.blocks, scan, ctx.relation);
      const info = table && ctx.relation(table);
      if (!table || !info || seen.has(table)) continue;
      const filter = filterEquality(table, scan, ctx);
      if (!filter) continue;
      const factor = nodeFactor(scan, ctx.relationByName, settings);
      let read: number;
      let kept: number;
      let how: string;
      if (ctx.analyzed && typeof scan['Actual Rows'] === 'number') {
        const loops = Number(scan['Actual Loops'] ?? 1);
        kept = scan['Actual Rows'] * loops;
        read = kept + Number(scan['Rows Removed by Filter'] ?? 0) * loops;
        how = 'EXPLAIN ANALYZE';
      } else {
        const selectivity = equalitySelectivity(info, filter.column, filter.value);
        if (selectivity === undefined || selectivity <= 0) continue;
        // Below a LIMIT the scan stops once it has kept enough rows.
        kept = Math.min(scan['Plan Rows'] * factor, limitAbove(ctx.plan, scan) ?? Infinity);
        read = kept / Math.min(1, selectivity);
        how = 'estimated from pg_stats';
      }
      if (read < minRead || read - kept < MIN_REMOVED_SHARE * read) continue;
      seen.add(table);
      const advice = adviseIndexes({ table, ctx });
      const index = scan['Index Name'] ?? planNodes(scan).find((n) => n['Index Name'])?.['Index Name'];
      findings.push({
        ruleId: this.id,
        message:
          `${scan['Node Type']}${index ? ` using ${index}` : ''} on ${table.relname} finds ~${formatNumber(Math.round(read))} ` +
          `rows and the filter on ${filter.column} throws away ~${Math.round(((read - kept) / read) * 100)}% of them ` +
          `(${how}: ~${formatNumber(Math.round(kept))} kept). An index that also has ${filter.column} finds only ` +
          'the rows the query wants.',
        span: filter.span,
        table,
        fixes: advice.fixes,
      });
    }
    return findings;
  },
};

/** The row count of a LIMIT the scan feeds directly (through nodes that pass rows on as they come). */
function limitAbove(root: PlanNode, scan: PlanNode): number | undefined {
  const path: PlanNode[] = [];
  const find = (n: PlanNode): boolean => {
    path.push(n);
    if (n === scan || (n.Plans ?? []).some(find)) return true;
    path.pop();
    return false;
  };
  if (!find(root)) return undefined;
  for (let i = path.length - 2; i >= 0; i--) {
    const t = path[i]['Node Type'];
    if (t === 'Limit') return path[i]['Plan Rows'];
    if (!['Nested Loop', 'Result', 'Gather', 'Gather Merge', 'Append', 'Merge Append', 'Subquery Scan'].includes(t)) return undefined;
  }
  return undefined;
}

/** An equality on a plain column of `table` that the scan applies as a Filter (not as its index condition). */
function filterEquality(table: TableRef, scan: PlanNode, ctx: RuleContext): { column: string; value: AstNode; span: { start: number; end: number } } | undefined {
  const { stmt } = ctx;
  if (!stmt.parse.ok) return undefined;
  const block = table.block;
  const cond = `${scan['Index Cond'] ?? ''} ${scan['Recheck Cond'] ?? ''} ${planNodes(scan).map((n) => n['Index Cond'] ?? '').join(' ')}`;
  for (const cmp of blockComparisons(block)) {
    if (cmp.kind !== 'eq' || cmp.others.length !== 1) continue;
    const ref = plainColumn(cmp.subject);
    if (!ref || resolveColumn(ref, block, columnChecker(ctx.relation)) !== table) continue;
    if (!othersIndependentOf(cmp.others, table, block, ctx.relation)) continue;
    const word = new RegExp(`\\b${ref.column.replace(/[^A-Za-z0-9_]/g, '')}\\b`);
    if (!word.test(String(scan.Filter)) || word.test(cond)) continue;
    const span = nodeSpan(cmp.node, stmt.tokens, stmt.parse.conv);
    if (span) return { column: ref.column, value: cmp.others[0], span };
  }
  return undefined;
}

/** Share of rows with `column = value`: the value's MCV frequency, else the average of the rest. */
function equalitySelectivity(info: RelationInfo, column: string, value: AstNode): number | undefined {
  const col: ColumnInfo | undefined = info.columns.find((c) => c.name === column);
  const st = col?.stats;
  if (!st) return undefined;
  const distinct = st.nDistinct >= 0 ? st.nDistinct : -st.nDistinct * Math.max(info.reltuples, 0);
  if (distinct <= 0) return undefined;
  const v = constantValue(value);
  if (v) {
    const i = st.mostCommonValues.indexOf(v.text);
    if (i >= 0) return st.mostCommonFreqs[i];
  }
  const rest = Math.max(0, 1 - st.nullFrac - st.mostCommonFreqs.reduce((a, b) => a + b, 0));
  const others = distinct - st.mostCommonValues.length;
  // A parameter could be any value: the average share of a value.
  if (!v) return (1 - st.nullFrac) / distinct;
  return others > 0 ? rest / others : undefined;
}
