// Builds a region's text piece by piece together with a segment table from text offsets to host offsets.
// A file can hold thousands of regions and the core maps every finding back, so lookups are a binary search
// over the segment starts rather than a walk.
import type { RegionParam, SqlRegion } from '../regions';

const enum Kind {
  /** Text copied unchanged from the host: offsets move in lock-step. */
  Verbatim,
  /** Text produced by one host construct (an escape, a CRLF, a `${…}` placeholder): only its ends map exactly. */
  Atomic,
}

export class RegionBuilder {
  private readonly parts: string[] = [];
  private len = 0;
  private readonly tStart: number[] = [];
  private readonly hStart: number[] = [];
  private readonly hEnd: number[] = [];
  private readonly kind: Kind[] = [];

  get length(): number {
    return this.len;
  }

  /** Appends host[from, to) unchanged. */
  verbatim(host: string, from: number, to: number): void {
    if (to <= from) return;
    const last = this.kind.length - 1;
    if (last >= 0 && this.kind[last] === Kind.Verbatim && this.hEnd[last] === from) {
      this.hEnd[last] = to;
    } else {
      this.push(from, to, Kind.Verbatim);
    }
    this.parts.push(host.slice(from, to));
    this.len += to - from;
  }

  /** Appends `produced`, which the host spells as host[from, to) (an escape sequence or a placeholder). */
  atomic(produced: string, from: number, to: number): void {
    // A line continuation produces nothing; an empty segment would only blur the lookup.
    if (produced.length === 0) return;
    this.push(from, to, Kind.Atomic);
    this.parts.push(produced);
    this.len += produced.length;
  }

  build(endHost: number, params: RegionParam[], origin: string): SqlRegion {
    const text = this.parts.join('');
    const { tStart, hStart, hEnd, kind } = this;
    const len = this.len;
    const toHost = (offset: number): number => {
      let off = Math.floor(offset);
      if (!(off > 0)) off = 0; // also catches NaN
      if (off >= len) return endHost;
      let lo = 0;
      let hi = tStart.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (tStart[mid] <= off) lo = mid;
        else hi = mid - 1;
      }
      const delta = off - tStart[lo];
      if (kind[lo] === Kind.Verbatim) return hStart[lo] + delta;
      if (delta === 0) return hStart[lo];
      // Inside an escape or a placeholder: somewhere inside its host spelling, never past it.
      return Math.max(hStart[lo], Math.min(hStart[lo] + delta, hEnd[lo] - 1));
    };
    return { text, toHost, params, origin };
  }

  private push(from: number, to: number, kind: Kind): void {
    this.tStart.push(this.len);
    this.hStart.push(from);
    this.hEnd.push(to);
    this.kind.push(kind);
  }
}
