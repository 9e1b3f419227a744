// workers-not-launched (EXPLAIN ANALYZE): the plan counted on parallel workers that the server did not
// start, so the leader did their share alone and the plan's costs no longer held.
import { walkPlan } from '../plan';
import { nodeSpanInStatement } from '../scans';
import { sameDefault, type AnalyzeRule, type Finding, type RuleContext } from './types';

export const workersNotLaunched: AnalyzeRule = {
  id: 'workers-not-launched',
  title: 'EXPLAIN ANALYZE: parallel workers were planned but not launched',
  needs: 'analyze',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const findings: Finding[] = [];
    walkPlan(ctx.plan, (n) => {
      if (!/^Gather/.test(n['Node Type'])) return;
      const planned = Number(n['Workers Planned'] ?? 0);
      const launched = Number(n['Workers Launched'] ?? planned);
      if (launched >= planned) return;
      const where = nodeSpanInStatement(ctx.stmt, n, ctx.relation);
      findings.push({
        ruleId: this.id,
        message:
          `${n['Node Type']} planned ${planned} parallel workers but launched ${launched}: the server had none to ` +
          'spare (max_parallel_workers, max_worker_processes), so the leader did the work alone. If this is common ' +
          'under load, raise those limits or plan for fewer workers (max_parallel_workers_per_gather).',
        span: where.span,
      });
    });
    return findings;
  },
};
