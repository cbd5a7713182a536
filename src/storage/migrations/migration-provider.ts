import type { Migration, MigrationProvider } from 'kysely';
import type { DialectColumnTypes } from '../sql/sql-dialect.js';
import { initialMigration } from './0001-initial.js';
import { accessMigration } from './0002-access.js';
import { pkiMigration } from './0003-pki.js';
import { certificateRequestsMigration } from './0004-certificate-requests.js';
import { llmUsageMigration } from './0005-llm-usage.js';
import { acmeMigration } from './0006-acme.js';

/**
 * Every migration, in order. Names are `NNNN_description`; Kysely runs them sorted by name.
 * Forward-only: a released migration is never edited or removed, changes come as a new one.
 */
export function migrationProvider(types: DialectColumnTypes): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001_initial': initialMigration(types),
    '0002_access': accessMigration(types),
    '0003_pki': pkiMigration(types),
    '0004_certificate_requests': certificateRequestsMigration(types),
    '0005_llm_usage': llmUsageMigration(types),
    '0006_acme': acmeMigration(types),
  };
  return { getMigrations: async () => migrations };
}
