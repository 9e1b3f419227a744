// The plan as Markdown: totals first, then the node tree as PostgreSQL people read it.
import type { PlanNode } from './plan';
import type { ExplainResult } from './ports';
import { formatNumber } from './sqlText';

const DETAIL_KEYS = ['Index Cond', 'Recheck Cond', 'Hash Cond', 'Merge Cond', 'Join Filter', 'Filter'] as const;

export function planMarkdown(result: Extract<ExplainResult, { kind: 'plan' }>, notes: string[] = []): string {
  const root = result.plan;
  const parts: string[] = [];
  const timing = [
    result.executionTimeMs !== undefined ? `**EXPLAIN ANALYZE** · execution ${result.executionTimeMs.toFixed(2)} ms` : undefined,
    result.planningTimeMs !== undefined ? `planning ${result.planningTimeMs.toFixed(2)} ms` : undefined,
    `round trip ${result.elapsedMs.toFixed(1)} ms`,
  ].filter(Boolean);
  parts.push(
    `**Plan** · total cost **${formatNumber(root['Total Cost'])}** · ~${formatNumber(root['Plan Rows'])} rows · ` +
      timing.join(' · '),
  );
  if (result.generic) {
    const params = result.paramTypes.map((t, i) => `$${i + 1} ${t}`).join(', ');
    parts.push(`*Generic plan* (parameters not bound${params ? `: ${params}` : ''}).`);
  }
  if (result.statistics === 'synthetic') {
    parts.push('*Embedded database*: estimates are synthetic (sqlInsight.embedded.rowCounts); the tables hold no rows.');
  } else if (result.statistics === 'none') {
    parts.push(
      '*Embedded database*: the tables are empty, so rows and costs say nothing about size; ' +
        'give row counts in sqlInsight.embedded.rowCounts for size findings.',
    );
  }
  for (const note of notes) parts.push(note);
  parts.push('```text\n' + planTree(root).join('\n') + '\n```');
  return parts.join('\n\n');
}

export function planTree(root: PlanNode): string[] {
  const lines: string[] = [];
  const visit = (node: PlanNode, depth: number): void => {
    const pad = depth === 0 ? '' : '  '.repeat(depth - 1) + '-> ';
    const detailPad = '  '.repeat(depth) + (depth === 0 ? '  ' : '   ');
    lines.push(pad + describeNode(node));
    for (const key of DETAIL_KEYS) {
      const v = node[key];
      if (typeof v === 'string') lines.push(`${detailPad}${key}: ${v}`);
    }
    for (const line of actualDetails(node)) lines.push(`${detailPad}${line}`);
    for (const child of node.Plans ?? []) visit(child, depth + 1);
  };
  visit(root, 0);
  return lines;
}

function describeNode(node: PlanNode): string {
  // ModifyTable reads as PostgreSQL's text format prints it: `Delete on t`, `Update on t`.
  const type = node['Node Type'] === 'ModifyTable' && typeof node.Operation === 'string' ? node.Operation : node['Node Type'];
  let s = node['Parallel Aware'] ? `Parallel ${type}` : type;
  if (node['Index Name'] && node['Node Type'] !== 'Bitmap Index Scan') s += ` using ${node['Index Name']}`;
  if (node['Node Type'] === 'Bitmap Index Scan' && node['Index Name']) s += ` on ${node['Index Name']}`;
  if (node['Relation Name']) {
    const rel = node.Schema && node.Schema !== 'public' ? `${node.Schema}.${node['Relation Name']}` : node['Relation Name'];
    s += ` on ${rel}`;
    if (node.Alias && node.Alias !== node['Relation Name']) s += ` ${node.Alias}`;
  }
  const cost = `${node['Startup Cost'].toFixed(2)}..${node['Total Cost'].toFixed(2)}`;
  let out = `${s}  (cost=${cost} rows=${node['Plan Rows']} width=${node['Plan Width']})`;
  if (typeof node['Actual Rows'] === 'number') {
    const t = (k: string): string => Number(node[k] ?? 0).toFixed(3);
    out += ` (actual time=${t('Actual Startup Time')}..${t('Actual Total Time')} rows=${node['Actual Rows']} loops=${Number(node['Actual Loops'] ?? 1)})`;
  }
  return out;
}

/** EXPLAIN ANALYZE details as PostgreSQL's text format prints them. */
function actualDetails(node: PlanNode): string[] {
  const out: string[] = [];
  const n = (k: string): number => Number(node[k] ?? 0);
  if (node['Rows Removed by Filter'] !== undefined) out.push(`Rows Removed by Filter: ${n('Rows Removed by Filter')}`);
  if (node['Heap Fetches'] !== undefined) out.push(`Heap Fetches: ${n('Heap Fetches')}`);
  if (node['Sort Method'] !== undefined) out.push(`Sort Method: ${String(node['Sort Method'])}  ${String(node['Sort Space Type'] ?? '')}: ${n('Sort Space Used')}kB`);
  if (node['Hash Batches'] !== undefined) out.push(`Buckets: ${n('Hash Buckets')}  Batches: ${n('Hash Batches')}  Memory Usage: ${n('Peak Memory Usage')}kB`);
  if (node['Lossy Heap Blocks'] !== undefined || node['Exact Heap Blocks'] !== undefined) {
    out.push(`Heap Blocks: exact=${n('Exact Heap Blocks')} lossy=${n('Lossy Heap Blocks')}`);
  }
  if (node['Workers Launched'] !== undefined) out.push(`Workers Planned: ${n('Workers Planned')}  Workers Launched: ${n('Workers Launched')}`);
  if (node['Shared Hit Blocks'] !== undefined) {
    const parts = [`shared hit=${n('Shared Hit Blocks')}`, n('Shared Read Blocks') ? `read=${n('Shared Read Blocks')}` : '', n('Temp Written Blocks') ? `temp written=${n('Temp Written Blocks')}` : '']
      .filter(Boolean);
    if (n('Shared Hit Blocks') + n('Shared Read Blocks') + n('Temp Written Blocks') > 0) out.push(`Buffers: ${parts.join(' ')}`);
  }
  return out;
}
