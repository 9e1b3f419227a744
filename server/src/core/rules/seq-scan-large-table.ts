// seq-scan-large-table: the plan reads every row of a large table to apply a filter.
import { tableNameSpan, type QueryBlock, type TableRef } from '../ast';
import { indexFix } from '../indexFix';
import { planNodes, type PlanNode } from '../plan';
import { blockPredicates, comparisonsIn, othersIndependentOf, plainColumn, columnChecker } from '../predicates';
import { columnRefOf, resolveColumn } from '../ast';
import { formatNumber, quoteIdent } from '../sqlText';
import { Severity } from '../types';
import type { Finding, Rule, RuleContext } from './types';

export const seqScanLargeTable: Rule = {
  id: 'seq-scan-large-table',
  defaultSeverity: Severity.Warning,
  check(ctx: RuleContext): Finding[] {
    const { stmt, settings } = ctx;
    // Empty tables (the embedded engine without row counts): a size finding would be invented.
    if (!stmt.parse.ok || ctx.statistics === 'none') return [];
    const findings: Finding[] = [];
    const used = new Set<TableRef>();
    for (const node of planNodes(ctx.plan)) {
      if (node['Node Type'] !== 'Seq Scan' || !node.Filter) continue;
      const table = findTable(stmt.blocks, node, used);
      if (!table) continue;
      used.add(table);
      const info = ctx.relation(table);
      // With synthetic statistics only the tables that were given a row count have a size.
      if (ctx.statistics === 'synthetic' && !(info && info.reltuples >= 0)) continue;
      const rows = info && info.reltuples >= 0 ? info.reltuples : node['Plan Rows'];
      if (rows < settings.seqScanMinRows) continue;
      const columns = indexColumns(table, ctx);
      findings.push({
        ruleId: this.id,
        severity: this.defaultSeverity,
        message:
          `Seq Scan on ${table.relname}: reads all ~${formatNumber(Math.round(rows))} rows to apply the filter ` +
          `${node.Filter} (cost ${formatNumber(node['Total Cost'])}, ~${formatNumber(node['Plan Rows'])} rows kept).`,
        span: tableNameSpan(table, stmt.tokens, stmt.parse.conv),
        table,
        fix:
          columns.length > 0
            ? indexFix({ table, elements: columns.map(quoteIdent), nameParts: columns, expression: false })
            : undefined,
      });
    }
    return findings;
  },
};

/** The table reference a scan node reads, by relation name and alias; each reference is used once. */
function findTable(blocks: QueryBlock[], node: PlanNode, used: Set<TableRef>): TableRef | undefined {
  for (const block of blocks) {
    for (const t of block.tables) {
      if (used.has(t) || t.relname !== node['Relation Name']) continue;
      if (node.Alias !== undefined && node.Alias !== t.refName) continue;
      if (t.schema && node.Schema !== undefined && node.Schema !== t.schema) continue;
      return t;
    }
  }
  return undefined;
}

/** Columns for a plain B-tree: equality columns first, then one range or sort column. */
function indexColumns(table: TableRef, ctx: RuleContext): string[] {
  const block = table.block;
  const eq: string[] = [];
  const range: string[] = [];
  for (const pred of blockPredicates(block)) {
    for (const cmp of comparisonsIn(pred)) {
      if (cmp.kind === 'like') continue;
      const ref = plainColumn(cmp.subject);
      if (!ref || resolveColumn(ref, block, columnChecker(ctx.relation)) !== table) continue;
      if (!othersIndependentOf(cmp.others, table, block, ctx.relation)) continue;
      (cmp.kind === 'eq' ? eq : range).push(ref.column);
    }
  }
  const cols = unique(eq);
  const rangeCol = range.find((c) => !cols.includes(c));
  if (rangeCol) cols.push(rangeCol);
  else {
    const sortCol = sortColumn(block, table, ctx);
    if (sortCol && !cols.includes(sortCol)) cols.push(sortCol);
  }
  return cols.slice(0, 4);
}

function sortColumn(block: QueryBlock, table: TableRef, ctx: RuleContext): string | undefined {
  const first = block.sortClause[0]?.SortBy?.node;
  const ref = columnRefOf(first);
  if (!ref || resolveColumn(ref, block, columnChecker(ctx.relation)) !== table) return undefined;
  return ref.column;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
