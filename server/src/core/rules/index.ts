import { functionOnIndexedColumn } from './function-on-indexed-column';
import { seqScanLargeTable } from './seq-scan-large-table';
import type { Rule } from './types';

/** Every plan rule, most specific first: a later rule's finding on a table an earlier one already explained is dropped. */
export const PLAN_RULES: Rule[] = [functionOnIndexedColumn, seqScanLargeTable];
