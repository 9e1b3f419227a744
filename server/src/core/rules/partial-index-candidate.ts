// partial-index-candidate: a large table is scanned for a constant that pg_stats says is rare on a skewed
// column (`status = 'refunded'` where most rows are 'shipped'), together with other predicates. A partial
// index that holds only the rare rows is small and serves the query; the composite index is offered beside it.
import { nodeSpan } from '../ast';
import { adviseIndexes, tablePredicates } from '../advisor';
import { planNodes } from '../plan';
import { tableOfNode } from '../scans';
import { describeSize, isLarge } from '../size';
import { formatNumber } from '../sqlText';
import { sameDefault, type Finding, type PlanRule, type RuleContext } from './types';

export const partialIndexCandidate: PlanRule = {
  id: 'partial-index-candidate',
  title: 'A rare constant on a skewed column, with other predicates: a partial index fits',
  needs: 'plan',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const { stmt } = ctx;
    if (!stmt.parse.ok) return [];
    const findings: Finding[] = [];
    const seen = new Set<unknown>();
    for (const scan of planNodes(ctx.plan)) {
      if (scan['Node Type'] !== 'Seq Scan' || !scan.Filter) continue;
      const table = tableOfNode(stmt.blocks, scan, ctx.relation);
      if (!table || seen.has(table)) continue;
      seen.add(table);
      const size = ctx.size(table);
      if (!isLarge(size, ctx.settings)) continue;
      const preds = tablePredicates(table, ctx);
      const rare = preds.rare[0];
      if (!rare?.node) continue;
      const others = [...preds.eq, ...preds.range].filter((c) => c !== rare.column);
      if (others.length === 0) continue;
      const advice = adviseIndexes({ table, ctx });
      const partial = advice.fixes.find((f) => f.candidate.sql.includes(' WHERE '));
      if (!partial) continue;
      const span = nodeSpan(rare.node, stmt.tokens, stmt.parse.conv);
      if (!span) continue;
      const common = ctx.relation(table)?.columns.find((c) => c.name === rare.column)?.stats?.mostCommonValues[0];
      findings.push({
        ruleId: this.id,
        message:
          `\`${stmt.text.slice(span.start, span.end)}\` matches ~${percent(rare.frequency)} of ${table.relname} ` +
          `(pg_stats${common !== undefined ? `; most rows are '${common}'` : ''}), and the query also filters on ` +
          `${others.join(', ')}: Seq Scan on ${table.relname} reads ${describeSize(size, formatNumber)} (cost ` +
          `${formatNumber(scan['Total Cost'])}). A partial index holding only those rows — ` +
          `${partial.label.replace(/^Create partial index on /, '')} — is a fraction of a full index's size; ` +
          'the composite index is offered beside it.',
        span,
        table,
        fixes: advice.fixes,
      });
    }
    return findings;
  },
};

function percent(f: number): string {
  return `${f >= 0.01 ? (f * 100).toFixed(1) : (f * 100).toFixed(2)}%`;
}
