// Every rule, in the order they run. Plan rules go most specific first: a later rule's finding on a table an
// earlier one already explained is dropped.
import { functionOnIndexedColumn } from './function-on-indexed-column';
import { seqScanLargeTable } from './seq-scan-large-table';
import type { Rule } from './types';

export const RULES: Rule[] = [functionOnIndexedColumn, seqScanLargeTable];
