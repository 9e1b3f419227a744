// leading-wildcard-like: `LIKE '%…'` or `ILIKE` on a large table. A B-tree keeps values sorted by their
// beginning, so it can only serve a LIKE whose pattern starts with fixed characters (and ILIKE hardly ever);
// a trigram GIN index (pg_trgm) serves wildcards anywhere.
import { nodeSpan, resolveColumn } from '../ast';
import { specBase } from '../advisor';
import { indexFix } from '../indexFix';
import type { AstNode } from '../parse';
import { blockComparisons, columnChecker, plainColumn } from '../predicates';
import { scanNodesFor } from '../scans';
import { describeSize, isLarge } from '../size';
import { formatNumber, quoteIdent } from '../sqlText';
import { sameDefault, type Finding, type PlanRule, type RuleContext } from './types';

const TRGM = 'pg_trgm';

export const leadingWildcardLike: PlanRule = {
  id: 'leading-wildcard-like',
  title: "LIKE '%…' or ILIKE on a large table, which no B-tree can serve",
  needs: 'plan',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const { stmt } = ctx;
    if (!stmt.parse.ok) return [];
    const findings: Finding[] = [];
    for (const block of stmt.blocks) {
      for (const cmp of blockComparisons(block)) {
        if (cmp.kind !== 'like') continue;
        const ilike = cmp.node.A_Expr?.kind === 'AEXPR_ILIKE';
        const pattern = patternText(cmp.others[0]);
        if (pattern === undefined || (!ilike && !/^[%_]/.test(pattern))) continue;
        const ref = plainColumn(cmp.subject);
        const table = ref && resolveColumn(ref, block, columnChecker(ctx.relation));
        const info = table && ctx.relation(table);
        if (!ref || !table || !info) continue;
        const size = ctx.size(table);
        if (!isLarge(size, ctx.settings)) continue;
        const scan = scanNodesFor(ctx.plan, table, ctx.relation).find((n) => n['Node Type'] === 'Seq Scan');
        if (!scan) continue;
        const span = nodeSpan(cmp.node, stmt.tokens, stmt.parse.conv);
        if (!span) continue;

        const why = ilike
          ? 'ILIKE compares case-insensitively, which a B-tree on the column cannot do'
          : 'the pattern starts with a wildcard, and a B-tree finds values by their beginning only';
        let advice: string;
        const fixes = [];
        const longest = Math.max(0, ...pattern.split(/[%_]/).map((s) => s.length));
        const ext = ctx.database?.extensions[TRGM];
        if (longest < 3) {
          advice = 'Even a trigram index cannot narrow a pattern with fewer than 3 characters in a row.';
        } else if (!ext) {
          advice = 'A trigram GIN index (pg_trgm) would serve it.';
        } else if (!ext.available) {
          advice =
            'A trigram GIN index would serve it, but the pg_trgm extension is not available on this server: ' +
            'install PostgreSQL\'s contrib package to use one.';
        } else {
          advice = ext.installed
            ? 'A trigram GIN index (pg_trgm) serves LIKE and ILIKE with wildcards anywhere.'
            : 'A trigram GIN index serves LIKE and ILIKE with wildcards anywhere; pg_trgm is available but not ' +
              'installed, so the fix creates the extension too.';
          fixes.push(
            indexFix({
              ...specBase(table, info),
              elements: [`${quoteIdent(ref.column)} gin_trgm_ops`],
              nameParts: [ref.column, 'trgm'],
              expression: false,
              method: 'gin',
              extension: { name: TRGM, installed: ext.installed },
            }),
          );
        }
        findings.push({
          ruleId: this.id,
          message:
            `\`${stmt.text.slice(span.start, span.end)}\`: ${why}, so ${scan['Node Type']} on ${table.relname} reads ` +
            `${describeSize(size, formatNumber)} (cost ${formatNumber(scan['Total Cost'])}). ${advice}`,
          span,
          table,
          fixes,
        });
      }
    }
    return findings;
  },
};

/**
 * The pattern's text when it is known: a literal, or a concatenation that starts with one
 * (`'%' || $1 || '%'` counts as a leading wildcard of unknown length).
 */
function patternText(node: AstNode): string | undefined {
  const n = node?.TypeCast ? node.TypeCast.arg : node;
  if (n?.A_Const?.sval) return String(n.A_Const.sval.sval ?? '');
  const e = n?.A_Expr;
  if (e?.kind === 'AEXPR_OP' && e.name?.[0]?.String?.sval === '||') {
    const left = patternText(e.lexpr);
    // The parameter part is unknown; assume it is long enough for trigrams.
    return left === undefined ? undefined : `${left}xxx`;
  }
  return undefined;
}
