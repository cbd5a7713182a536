import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { ConfigService } from '../config/config-service.js';
import type { AccessService } from '../auth/access-service.js';
import type { CaService } from '../pki/ca-service.js';
import type { Store } from '../storage/store.js';
import { AdminAuth } from './admin-auth.js';
import { createAdminHandler } from './admin-server.js';

describe('OpenAPI document', () => {
  const store = { adminTokens: {}, ping: async () => undefined } as unknown as Store;
  const handler = createAdminHandler({
    logger: pino({ level: 'silent' }),
    configService: {} as ConfigService,
    accessService: {} as AccessService,
    caService: {} as CaService,
    store,
    snapshots: { revision: 1, error: undefined, current: {} },
    auth: new AdminAuth({ store }),
    version: '9.9.9',
  });
  const doc = handler.openapi();

  it('lists every route the admin router serves, and nothing else', () => {
    assert.ok(handler.routes.length >= 19);
    for (const route of handler.routes) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      assert.ok(op, `${route.method} ${route.path} is missing from the OpenAPI document`);
      assert.equal(op.operationId, route.operationId);
      assert.ok((op.responses as Record<string, unknown>)[String(route.success.status)], `${route.operationId}: success response`);
      if (route.body) assert.ok(op.requestBody, `${route.operationId}: request body`);
      if (route.permission === null) assert.deepEqual(op.security, [], `${route.operationId} is public`);
      else assert.equal(op.security, undefined, `${route.operationId} uses the global bearer security`);
    }
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    assert.deepEqual(documented.sort(), handler.routes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('is OpenAPI 3.1 with bearer security, the error schema and pagination parameters', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.version, '9.9.9');
    assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: (doc.components.securitySchemes.bearerAuth as { description: string }).description });
    const error = doc.components.schemas.Error as { properties: { error: { required: string[] } } };
    assert.deepEqual(error.properties.error.required, ['type', 'code', 'message']);
    const limit = doc.components.parameters.limit!;
    assert.equal(limit.in, 'query');
    assert.deepEqual([(limit.schema as any).minimum, (limit.schema as any).maximum, (limit.schema as any).default], [1, 1000, 100]);
    assert.equal(doc.components.parameters.cursor!.required, false);
    const list = doc.paths['/admin/v1/tenants/{tenant}/services']!.get!;
    assert.deepEqual(list.parameters, [{ $ref: '#/components/parameters/tenant' }, { $ref: '#/components/parameters/limit' }, { $ref: '#/components/parameters/cursor' }]);
  });

  it('generates request bodies as input schemas and responses as output schemas', () => {
    const input = doc.components.schemas.ServiceInput as any;
    const output = doc.components.schemas.Service as any;
    assert.deepEqual(input.required, ['name']);
    assert.deepEqual(output.properties.spec.required, ['name', 'plugins']);
    // Durations: "5s" or ms on input, integer ms on output.
    assert.ok(input.properties.upstream.properties.timeouts.properties.connect.anyOf);
    assert.equal(output.properties.spec.properties.upstream.properties.timeouts.properties.connect.type, 'integer');
    assert.ok(((doc.components.schemas.ServiceReplaceInput as any).required ?? []).every((k: string) => k !== 'name'));
    assert.ok(doc.components.schemas.ConfigDocumentInput && doc.components.schemas.ConfigDocument && doc.components.schemas.ApplyResult);
  });

  it('has no dangling $ref', () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const r of refs) {
      const target = r.slice(8, -1).replace('#/', '').split('/');
      let cur: any = doc;
      for (const seg of target) cur = cur?.[seg];
      assert.ok(cur, `dangling ${r}`);
    }
  });
});
