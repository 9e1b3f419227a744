// A region is one piece of SQL inside a host document: the whole of a `.sql` file, or one template literal /
// string in a JS/TS file. The core parses and plans `text`; every offset it finds there goes back to the host
// document through `toHost`, so no other module does offset arithmetic.

export interface RegionParam {
  /** 1-based parameter number as it appears in `text` (`$1`). */
  index: number;
  /** What the host put there: the interpolation's source text, e.g. `userId` or `sql.identifier(['t'])`. */
  source: string;
  /**
   * `value`: an ordinary bound value. `unknown`: a fragment or identifier helper whose SQL cannot be known
   * statically; analysis continues with a placeholder and the hover says which part was unknown.
   */
  kind: 'value' | 'unknown';
}

export interface SqlRegion {
  /** The SQL exactly as it will be parsed and sent to PostgreSQL. */
  text: string;
  /** Maps a UTF-16 offset in `text` (0..text.length inclusive) to a UTF-16 offset in the host document. */
  toHost(offset: number): number;
  /** Parameters the host created (interpolations); empty for `.sql` files. */
  params: RegionParam[];
  /** Where the SQL came from, for hovers, e.g. "sql`…` tagged template (postgres.js)". */
  origin?: string;
  /** The innermost loop of the host code whose every iteration runs this SQL (embedded/loops.ts). */
  loop?: HostLoop;
}

export interface HostLoop {
  /** `for…of`, `while`, `.forEach`, … as a person names it. */
  kind: string;
  /** 0-based line of the loop in the host document. */
  line: number;
}

/** The region of a `.sql` document: all of it, offsets unchanged. */
export function wholeDocumentRegion(text: string): SqlRegion {
  return { text, toHost: (offset) => offset, params: [] };
}
