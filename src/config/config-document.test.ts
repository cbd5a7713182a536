import { describe, it } from 'node:test';
import type { RouteSpec } from '../model/route.js';
import type { ServiceSpec } from '../model/service.js';
import assert from 'node:assert/strict';
import { parseYamlSource, validateYamlSource } from './yaml-source.js';
import { buildDocument, ConfigDocumentSchema, documentObjects } from './config-document.js';

const YAML = `tenant: default
services:
  - name: httpbin
    upstream: { targets: [{ url: http://127.0.0.1:3000 }] }
    plugins: {}
    routes:
      - name: httpbin
        paths: [/anything, { path: /exact, match: exact }]
        methods: [GET, POST]
`;

describe('config document', () => {
  it('parses the documented format with defaults filled', () => {
    const doc = validateYamlSource(parseYamlSource(YAML, 'g.yaml'), ConfigDocumentSchema, 'g.yaml');
    assert.equal(doc.tenant, 'default');
    const route = doc.services[0]!.routes[0]!;
    assert.deepEqual(route.paths, [
      { path: '/anything', match: 'prefix' },
      { path: '/exact', match: 'exact' },
    ]);
    assert.equal(route.stripPath, false);
    assert.equal(doc.services[0]!.upstream!.connections, 256);
    assert.equal(ConfigDocumentSchema.parse({}).tenant, undefined);
  });

  it('flattens routes under their service and nests them back', () => {
    const doc = ConfigDocumentSchema.parse(validateYamlSource(parseYamlSource(YAML, 'g.yaml'), ConfigDocumentSchema, 'g.yaml'));
    const objects = documentObjects(doc);
    const routes = objects.route as Array<{ spec: RouteSpec; path: unknown[] }>;
    assert.equal(routes[0]!.spec.service, 'httpbin');
    assert.deepEqual(routes[0]!.path, ['services', 0, 'routes', 0]);
    const rebuilt = buildDocument('default', {
      certificate: [],
      domain: [],
      application: [],
      'jwt-issuer': [],
      'llm-provider': [],
      'llm-policy': [],
      service: objects.service.map((s) => s.spec as ServiceSpec),
      route: routes.map((r) => r.spec),
    });
    assert.deepEqual(rebuilt, doc);
  });

  it('rejects a route naming its service, unknown keys and duplicate names, with positions', () => {
    const withService = YAML.replace('methods: [GET, POST]', 'methods: [GET]\n        service: other');
    assert.throws(() => validateYamlSource(parseYamlSource(withService, 'g.yaml'), ConfigDocumentSchema, 'g.yaml'), /g\.yaml:\d+:\d+: services\.0\.routes\.0: Unrecognized key: "service"/);
    const dup = { services: [{ name: 'a', upstream: { targets: [{ url: 'http://x.test' }] }, routes: [{ name: 'r', paths: ['/1'] }] }, { name: 'b', upstream: { targets: [{ url: 'http://x.test' }] }, routes: [{ name: 'r', paths: ['/2'] }] }] };
    const r = ConfigDocumentSchema.safeParse(dup);
    assert.ok(!r.success);
    assert.deepEqual(r.error.issues.map((i) => i.path.join('.')), ['services.1.routes.0.name']);
  });
});
