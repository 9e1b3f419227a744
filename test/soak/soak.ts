// Soak test (npm run soak; not part of npm test): the built server over stdio against a real PostgreSQL,
// 200 open documents, 50 edits+saves per second for 60 s, hovers alongside. Reports requests answered,
// latency from save to that version's diagnostics (p50/p99), the server's peak RSS, the most database
// connections it held at once, and lost or stale diagnostics (both must be zero). Exit code 1 otherwise.
// SOAK_SECONDS, SOAK_DOCS, SOAK_RATE change the load; SOAK_OUT=file also writes the report as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { LspClient } from '../helpers/lspClient';
import { createShopDatabase } from '../helpers/testDb';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const DOCS = Number(process.env.SOAK_DOCS ?? 200);
const RATE = Number(process.env.SOAK_RATE ?? 50);
const HOVER_RATE = 10;
const POOL_SIZE = 2;
const APP = 'sqli_soak';

/** Version `v` of document `i`, and the diagnostic codes it must get. */
function documentText(i: number, v: number): { text: string; codes: string[] } {
  const lines = [`SELECT id, name FROM customers WHERE id = ${v};`];
  const codes: string[] = [];
  if (v % 2 === 1) {
    lines.push(`SELECT o.id FROM orders o WHERE o.customer_id = ${i + v};`);
    codes.push('seq-scan-large-table');
  }
  if (v % 3 === 0) {
    lines.push(`SELEC ${v};`);
    codes.push('syntax-error');
  }
  if (v % 4 === 0) {
    lines.push(`SELECT * FROM missing_${i};`);
    codes.push('database-error');
  }
  lines.push(`-- document ${i}, version ${v}`);
  return { text: lines.join('\n'), codes: codes.sort() };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function rssKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  const db = await createShopDatabase('soak');
  const url = new URL(db.url);
  url.searchParams.set('application_name', APP);
  const client = await LspClient.start({ settings: { databaseUrl: url.toString() } });
  const pid = client.pid;
  const uri = (i: number): string => `file:///soak/doc-${i}.sql`;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const lastSent = new Map<string, number>();
  const lastPublished = new Map<string, PublishDiagnosticsParams>();
  let stale = 0;
  let published = 0;

  const onPublish = (p: PublishDiagnosticsParams): void => {
    published++;
    const prev = lastPublished.get(p.uri);
    if (prev && (p.version ?? 0) < (prev.version ?? 0)) stale++;
    lastPublished.set(p.uri, p);
    const t = sentAt.get(`${p.uri}#${p.version}`);
    if (t !== undefined) latencies.push(performance.now() - t);
  };
  client.onDiagnostics(onPublish);

  let maxConnections = 0;
  let peakSampledRss = 0;
  const sampler = setInterval(() => {
    peakSampledRss = Math.max(peakSampledRss, rssKb(pid, 'VmRSS'));
    void db
      .query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [APP])
      .then((r) => (maxConnections = Math.max(maxConnections, r[0].n)))
      .catch(() => undefined);
  }, 100);

  console.log(`soak: ${DOCS} documents, ${RATE} edits+saves/s and ${HOVER_RATE} hovers/s for ${SECONDS} s`);
  const version = new Array<number>(DOCS).fill(1);
  await Promise.all(
    Array.from({ length: DOCS }, async (_, i) => {
      sentAt.set(`${uri(i)}#1`, performance.now());
      lastSent.set(uri(i), 1);
      await client.open(uri(i), documentText(i, 1).text);
    }),
  );
  latencies.length = 0;
  console.log('soak: all documents open and analysed; editing');

  let edits = 0;
  let hovers = 0;
  let hoversAnswered = 0;
  let hoverErrors = 0;
  const hoverLatencies: number[] = [];
  const started = performance.now();
  const end = started + SECONDS * 1000;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      if (now >= end) {
        clearInterval(tick);
        resolve();
        return;
      }
      // Catch up to the rate, whatever the timer's jitter.
      const due = Math.floor(((now - started) / 1000) * RATE);
      while (edits < due) {
        const i = (edits * 7919) % DOCS;
        const v = ++version[i];
        const u = uri(i);
        sentAt.set(`${u}#${v}`, performance.now());
        lastSent.set(u, v);
        void client.connection.sendNotification('textDocument/didChange', {
          textDocument: { uri: u, version: v },
          contentChanges: [{ text: documentText(i, v).text }],
        });
        void client.connection.sendNotification('textDocument/didSave', { textDocument: { uri: u } });
        edits++;
      }
      const hoversDue = Math.floor(((now - started) / 1000) * HOVER_RATE);
      while (hovers < hoversDue) {
        hovers++;
        const t = performance.now();
        client
          .hover(uri((hovers * 31) % DOCS), 0, 10)
          .then(() => {
            hoversAnswered++;
            hoverLatencies.push(performance.now() - t);
          })
          .catch(() => hoverErrors++);
      }
    }, 5);
  });
  console.log(`soak: ${edits} edits sent; waiting for every document's last version`);

  // Every document's last version must be published, with the codes its text calls for.
  const settleDeadline = Date.now() + 60_000;
  const missing = (): number[] =>
    Array.from({ length: DOCS }, (_, i) => i).filter((i) => (lastPublished.get(uri(i))?.version ?? 0) !== lastSent.get(uri(i)));
  while (missing().length > 0 && Date.now() < settleDeadline) {
    await Promise.race([client.waitFor('diagnostics', () => true), new Promise((r) => setTimeout(r, 1000))]);
  }
  clearInterval(sampler);
  const lost = missing().length;
  let wrong = 0;
  for (let i = 0; i < DOCS; i++) {
    const p = lastPublished.get(uri(i));
    if (!p) continue;
    const codes = p.diagnostics.map((d) => String(d.code)).sort();
    if (JSON.stringify(codes) !== JSON.stringify(documentText(i, version[i]).codes)) wrong++;
  }
  const peakRss = rssKb(pid, 'VmHWM');
  await client.stop();
  await db.drop();

  latencies.sort((a, b) => a - b);
  hoverLatencies.sort((a, b) => a - b);
  const report = {
    seconds: SECONDS,
    documents: DOCS,
    editsAndSaves: edits,
    diagnosticsPublished: published,
    hoverRequests: hovers,
    hoverRequestsAnswered: hoversAnswered,
    hoverErrors,
    saveToDiagnosticsMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1) ?? NaN), samples: latencies.length },
    hoverMs: { p50: round(percentile(hoverLatencies, 50)), p99: round(percentile(hoverLatencies, 99)) },
    serverPeakRssMb: round(Math.max(peakRss, peakSampledRss) / 1024),
    maxDatabaseConnections: maxConnections,
    poolSize: POOL_SIZE,
    lostDiagnostics: lost,
    staleDiagnostics: stale,
    wrongFinalDiagnostics: wrong,
  };
  console.log(JSON.stringify(report, null, 2));
  if (process.env.SOAK_OUT) writeFileSync(process.env.SOAK_OUT, JSON.stringify(report, null, 2) + '\n');
  const ok = lost === 0 && stale === 0 && wrong === 0 && maxConnections <= POOL_SIZE && hoverErrors === 0 && hoversAnswered === hovers;
  console.log(ok ? 'soak: OK' : 'soak: FAILED');
  process.exit(ok ? 0 : 1);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
