/**
 * Test helpers for PostgreSQL: where the test server is, and a throw-away schema per test file.
 * Not used by production code.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { errorText, redact } from '../sql/storage-errors.js';

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The test database URL (`PORTCULLIS_TEST_DATABASE_URL`, else {@link DEFAULT_TEST_DATABASE_URL})
 * when the server answers. When it does not: throws if `CI=true` (PostgreSQL tests must run in CI),
 * otherwise prints a loud warning and returns undefined so the caller skips its tests.
 */
export async function postgresTestUrl(): Promise<string | undefined> {
  const url = process.env.PORTCULLIS_TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return url;
  } catch (err) {
    const reason = redact(errorText(err));
    const where = redact(url);
    if (process.env.CI === 'true') {
      throw new Error(`PostgreSQL not reachable at ${where} (${reason}) and CI=true: PostgreSQL tests cannot be skipped in CI`);
    }
    const line = '!'.repeat(100);
    console.warn(`\n${line}\n!! PostgreSQL not reachable at ${where} (${reason}): PostgreSQL tests SKIPPED\n!! Set PORTCULLIS_TEST_DATABASE_URL or start PostgreSQL to run them.\n${line}\n`);
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A unique schema name for one test file (`t_<random>`); `drop()` removes it and everything in it. */
export function withTestSchema(url: string): { schema: string; drop(): Promise<void> } {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return {
    schema,
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}
