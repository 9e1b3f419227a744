// Every rule, in the order they run. Plan rules go most specific first: a later rule's finding on a table an
// earlier one already explained is dropped, so one problem gets one diagnostic.
import { countStarLargeTable } from './count-star-large-table';
import { diskSortOrHash } from './disk-sort-or-hash';
import { hashBatches } from './hash-batches';
import { heapFetches } from './heap-fetches';
import { lossyBitmap } from './lossy-bitmap';
import { rowEstimateMisleading } from './row-estimate-misleading';
import { workersNotLaunched } from './workers-not-launched';
import { functionOnIndexedColumn } from './function-on-indexed-column';
import { implicitCastDefeatsIndex } from './implicit-cast-defeats-index';
import { indexThenFilter } from './index-then-filter';
import { joinWithoutIndex } from './join-without-index';
import { largeOffsetPagination } from './large-offset-pagination';
import { leadingWildcardLike } from './leading-wildcard-like';
import { nPlusOne } from './n-plus-one';
import { notInSubquery } from './not-in-subquery';
import { orAcrossColumns } from './or-across-columns';
import { partialIndexCandidate } from './partial-index-candidate';
import { selectStar } from './select-star';
import { seqScanLargeTable } from './seq-scan-large-table';
import { sortWithoutIndex } from './sort-without-index';
import type { Rule } from './types';
import { updateDeleteWithoutWhere } from './update-delete-without-where';

export const RULES: Rule[] = [
  functionOnIndexedColumn,
  implicitCastDefeatsIndex,
  leadingWildcardLike,
  notInSubquery,
  orAcrossColumns,
  partialIndexCandidate,
  indexThenFilter,
  joinWithoutIndex,
  sortWithoutIndex,
  seqScanLargeTable,
  countStarLargeTable,
  largeOffsetPagination,
  selectStar,
  updateDeleteWithoutWhere,
  nPlusOne,
  rowEstimateMisleading,
  diskSortOrHash,
  hashBatches,
  heapFetches,
  lossyBitmap,
  workersNotLaunched,
];
