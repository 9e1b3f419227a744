// A database built to be damaged: a large table to draw findings (and so what-ifs), an audit table, a
// sequence, functions that write, lock or change session state when the planner runs them, and a probe that
// reports a backend's session state through an error message (the only channel EXPLAIN has back).
import { createTestDatabase, type TestDatabase } from '../helpers/testDb';

export const HOSTILE_SCHEMA = `
CREATE SEQUENCE victims_seq;
CREATE TABLE victims (
  id          bigint PRIMARY KEY DEFAULT nextval('victims_seq'),
  email       text NOT NULL,
  note        text NOT NULL,
  created_at  timestamptz NOT NULL
);
CREATE INDEX victims_email_idx ON victims (email);
INSERT INTO victims (email, note, created_at)
SELECT 'v' || g || '@example.com', 'note ' || (g % 1000), timestamptz '2024-01-01' + g * interval '1 minute'
FROM generate_series(1, 50000) g;
CREATE TABLE audit (id bigint, what text);
INSERT INTO audit VALUES (1, 'seed');
-- Autovacuum would move n_live_tup and n_mod_since_analyze on its own schedule, which the suite compares.
ALTER TABLE victims SET (autovacuum_enabled = false);
ALTER TABLE audit SET (autovacuum_enabled = false);

-- Volatile: EXPLAIN never runs it (ANALYZE would, inside a read-only transaction).
CREATE FUNCTION writes_volatile() RETURNS int LANGUAGE plpgsql VOLATILE AS $$
BEGIN INSERT INTO audit VALUES (nextval('victims_seq'), 'volatile'); RETURN 1; END $$;
-- Mislabelled IMMUTABLE: the planner folds calls with constant arguments, i.e. runs them while planning.
CREATE FUNCTION writes_immutable() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN DELETE FROM victims WHERE id = 1; INSERT INTO audit VALUES (2, 'immutable'); RETURN 1; END $$;
CREATE FUNCTION bumps_immutable() RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN nextval('victims_seq'); END $$;
CREATE FUNCTION locks_immutable() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM pg_advisory_lock(4242); PERFORM pg_advisory_lock_shared(4343); RETURN 1; END $$;
CREATE FUNCTION sets_immutable() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM set_config('sqli.poisoned', 'yes', false);
  PERFORM set_config('search_path', 'pg_catalog', false);
  PERFORM set_config('statement_timeout', '0', false);
  RETURN 1;
END $$;
-- Planning that takes as long as we like.
CREATE FUNCTION slow_immutable(seconds float8) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM pg_sleep(seconds); RETURN 1; END $$;
CREATE PROCEDURE wipe() LANGUAGE sql AS $$ DELETE FROM victims $$;

-- Reports the session state of the backend that plans it: what a rollback must have left as it was.
CREATE FUNCTION sqli_probe(tag int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE state text;
BEGIN
  SELECT json_build_object(
    'tag', tag,
    'pid', pg_backend_pid(),
    'app', current_setting('application_name'),
    'statement_timeout', current_setting('statement_timeout'),
    'lock_timeout', current_setting('lock_timeout'),
    'read_only', current_setting('transaction_read_only'),
    'search_path', current_setting('search_path'),
    -- A custom variable first set in a rolled-back transaction stays defined, empty: its value is what counts.
    'poisoned', coalesce(current_setting('sqli.poisoned', true), ''),
    'user', current_user,
    'advisory_locks', (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'),
    -- Our change-marker query is a named statement on purpose (catalog.ts): fixed text, kept per connection.
    'prepared', (SELECT count(*) FROM pg_prepared_statements WHERE name <> 'sql_insight_markers'),
    'cursors', (SELECT count(*) FROM pg_cursors),
    'listening', (SELECT count(*) FROM pg_listening_channels()),
    'temp_relations', (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()),
    'session_settings', (SELECT json_object_agg(name, setting ORDER BY name) FROM pg_settings
                          WHERE source = 'session' AND name <> 'application_name')
  )::text INTO state;
  RAISE EXCEPTION 'probe %', state;
END $$;
`;

export async function createHostileDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase('safety', HOSTILE_SCHEMA);
  // After the schema's transaction committed: an ANALYZE inside it would leave n_mod_since_analyze at the
  // inserted rows, and the first what-if that analyses for real would reset it.
  await db.query('ANALYZE');
  return db;
}

/** What must never change: rows, sequence, catalog, extensions. */
export async function snapshot(db: TestDatabase): Promise<Record<string, unknown>> {
  const [row] = await db.query<Record<string, unknown>>(`
    SELECT (SELECT count(*)::int FROM victims) AS victims,
           (SELECT sum(hashtext(v::text))::text FROM victims v) AS victims_hash,
           (SELECT json_agg(a ORDER BY a.id, a.what) FROM audit a) AS audit,
           (SELECT last_value::text || '/' || is_called FROM victims_seq) AS seq,
           (SELECT json_agg(c.relname ORDER BY c.relname) FROM pg_class c
             WHERE c.relnamespace = 'public'::regnamespace) AS relations,
           (SELECT json_agg(proname ORDER BY proname) FROM pg_proc WHERE pronamespace = 'public'::regnamespace) AS functions,
           (SELECT json_agg(extname ORDER BY extname) FROM pg_extension) AS extensions`);
  return row;
}

export interface WriteCounters {
  relname: string;
  /** Rows written: PostgreSQL counts attempts, so a rolled-back write moves these too. */
  ins: number;
  upd: number;
  del: number;
  hot: number;
  /** Moved by committed writes only (and by ANALYZE/VACUUM, which set them). */
  live: number;
  mod: number;
}

/** Write counters of every user table; only meaningful once the backends that planned have exited. */
export function writeCounters(db: TestDatabase): Promise<WriteCounters[]> {
  return db.query(
    `SELECT relname, n_tup_ins::int AS ins, n_tup_upd::int AS upd, n_tup_del::int AS del, n_tup_hot_upd::int AS hot,
            n_live_tup::int AS live, n_mod_since_analyze::int AS mod
       FROM pg_stat_user_tables ORDER BY relname`,
  );
}

/** Locks held by any other backend connected to this database. */
export function foreignLocks(db: TestDatabase): Promise<Record<string, unknown>[]> {
  return db.query(
    `SELECT a.application_name AS app, l.locktype, l.mode, l.granted, l.relation::regclass::text AS relation, l.objid
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE a.datname = current_database() AND l.pid <> pg_backend_pid()
      ORDER BY 1, 2, 3`,
  );
}

/** Ends the backends of one application name and waits until they are gone, so their statistics are flushed. */
export async function endBackends(db: TestDatabase, app: string): Promise<void> {
  await db.query('SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = $1', [app]);
}
