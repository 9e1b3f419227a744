// join-without-index: a join reads a whole large table to match a few rows from the other side, because the
// large table's join column has no index — typically a foreign key (PostgreSQL does not index those by itself).
import { columnRefsIn, nodeSpan, resolveColumn, type TableRef } from '../ast';
import { adviseIndexes } from '../advisor';
import { walkPlan, type PlanNode } from '../plan';
import { blockComparisons, columnChecker, plainColumn } from '../predicates';
import { tableOfNode } from '../scans';
import { describeSize, isLarge, nodeFactor } from '../size';
import { formatNumber } from '../sqlText';
import { sameDefault, type Finding, type PlanRule, type RuleContext } from './types';

const JOINS = new Set(['Hash Join', 'Nested Loop', 'Merge Join']);
/** The other side must be this many times smaller than the scanned table for an index lookup to win. */
const SMALLER_BY = 50;

export const joinWithoutIndex: PlanRule = {
  id: 'join-without-index',
  title: "A join scans a whole large table on a join key that has no index (often a foreign key)",
  needs: 'plan',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const { stmt, settings } = ctx;
    if (!stmt.parse.ok) return [];
    const findings: Finding[] = [];
    const done = new Set<TableRef>();
    walkPlan(ctx.plan, (join) => {
      if (!JOINS.has(join['Node Type']) || (join.Plans ?? []).length !== 2) return;
      const sides = (join.Plans ?? []).map(sideScan);
      for (let i = 0; i < 2; i++) {
        const scan = sides[i];
        if (scan['Node Type'] !== 'Seq Scan') continue;
        const table = tableOfNode(stmt.blocks, scan, ctx.relation);
        const info = table && ctx.relation(table);
        if (!table || !info || done.has(table)) continue;
        const size = ctx.size(table);
        if (!isLarge(size, settings)) continue;
        const other = (join.Plans ?? [])[1 - i];
        const otherRows = other['Plan Rows'] * nodeFactor(other, ctx.relationByName, settings);
        if (otherRows * SMALLER_BY > size.rows) continue;
        const key = joinKey(table, ctx);
        if (!key) continue;
        if (info.indexes.some((ix) => ix.keyColumns[0] === key.column && ix.predicate === null)) continue;
        done.add(table);
        const fk = (info.foreignKeys ?? []).find((k) => k.columns[0] === key.column);
        const fkText = fk
          ? ` ${table.relname}.${key.column} is a foreign key to ${fk.references.name}(${fk.referencedColumns.join(', ')}), ` +
            'and PostgreSQL does not index foreign keys by itself.'
          : '';
        findings.push({
          ruleId: this.id,
          message:
            `${join['Node Type']} reads all ${describeSize(size, formatNumber)} of ${table.relname} (Seq Scan, cost ` +
            `${formatNumber(scan['Total Cost'])}) to match ~${formatNumber(Math.round(otherRows))} rows on ` +
            `${table.relname}.${key.column}, which has no index.${fkText} An index on ${key.column} turns this into ` +
            'an index lookup per row.',
          span: key.span,
          table,
          fixes: adviseIndexes({ table, ctx, keys: [key.column] }).fixes,
        });
      }
    });
    return findings;
  },
};

/** The scan under a join side, through the nodes that only pass rows on. */
function sideScan(node: PlanNode): PlanNode {
  let n = node;
  while (['Hash', 'Materialize', 'Memoize', 'Sort', 'Gather'].includes(n['Node Type']) && n.Plans?.length === 1) n = n.Plans[0];
  return n;
}

/** The first column of `table` compared by equality with another table's column in the block's predicates. */
function joinKey(table: TableRef, ctx: RuleContext): { column: string; span: { start: number; end: number } } | undefined {
  const { stmt } = ctx;
  if (!stmt.parse.ok) return undefined;
  const block = table.block;
  const has = columnChecker(ctx.relation);
  for (const cmp of blockComparisons(block)) {
    if (cmp.kind !== 'eq') continue;
    const ref = plainColumn(cmp.subject);
    if (!ref || resolveColumn(ref, block, has) !== table) continue;
    const refs = cmp.others.flatMap(columnRefsIn);
    if (refs.length === 0 || refs.some((r) => resolveColumn(r, block, has) === table)) continue;
    const span = nodeSpan(cmp.subject, stmt.tokens, stmt.parse.conv);
    if (span) return { column: ref.column, span };
  }
  return undefined;
}
