/**
 * Admin endpoints of the certificate inventory (pki/expiry/certificate-inventory.ts): one tenant's
 * certificates (its administrators and viewers), and every certificate of the gateway, its own
 * listener certificate included (platform administrators: the same audience as the metrics, whose
 * expiry gauge shows the same certificates).
 */

import { z } from 'zod';
import { DurationSchema } from '../model/common.js';
import { filterInventory, INVENTORY_KINDS, inventoryReader, type InventoryReader } from '../pki/expiry/certificate-inventory.js';
import type { AdminRoute, NamedSchema, ParamSpec } from './admin-routes.js';
import { anyTenant, API_PREFIX, onTenant } from './admin-routes.js';

const READ = [400, 401, 403, 404, 503] as const;

const InventoryEntrySchema = z
  .object({
    tenant: z.string().nullable().describe("Owning tenant; null for the gateway's own certificates"),
    kind: z.enum(INVENTORY_KINDS).describe('served: presented to clients; trusted: client certificates must chain to it; issued: by a built-in CA'),
    source: z.enum(['uploaded', 'issued', 'generated', 'imported', 'listener', 'acme']),
    name: z.string().describe('Certificate object, CA (`<ca>/root` for its root), `<domain>/client-ca-<n>`, serial, or `listener`'),
    subject: z.string(),
    sans: z.array(z.string()),
    issuer: z.string(),
    notAfter: z.string(),
    daysLeft: z.number().int().describe('Whole days until notAfter, rounded down; negative once expired'),
    fingerprint: z.string().describe('SHA-256 of the DER certificate, hex'),
    renewal: z.enum(['manual', 'automatic', 'none']).describe('manual: an operator renews it; automatic: the gateway does; none: nobody (issued certificates)'),
  })
  .strict();

const InventorySchema: NamedSchema = { name: 'CertificateInventory', schema: z.object({ items: z.array(InventoryEntrySchema).describe('Soonest expiry first') }).strict() };

const QUERY: readonly ParamSpec[] = [
  { name: 'expiring', schema: DurationSchema.optional().describe('Only certificates expiring within this long, e.g. 30d') },
  { name: 'kind', schema: z.enum(INVENTORY_KINDS).optional().describe('Only served, trusted or issued certificates') },
];

export interface InventoryRoutesDeps {
  /** Default: an inventory without the listener's certificates, on the system clock. */
  readonly inventory?: InventoryReader | undefined;
}

export function inventoryRoutes(deps: InventoryRoutesDeps = {}): AdminRoute[] {
  const inventory = deps.inventory ?? inventoryReader();
  const select = (entries: Parameters<typeof filterInventory>[0], query: Readonly<Record<string, unknown>>) => ({
    items: filterInventory(entries, { expiringWithinMs: query.expiring as number | undefined, kind: query.kind as (typeof INVENTORY_KINDS)[number] | undefined }, new Date(inventory.now())),
  });
  return [
    {
      method: 'GET',
      path: `${API_PREFIX}/tenants/{tenant}/certificate-inventory`,
      operationId: 'listCertificateInventory',
      summary: "The tenant's certificates (served by its domains, trusted by them, issued by its CAs) with their expiry, soonest first",
      tag: 'PKI',
      permission: onTenant('config.read'),
      query: QUERY,
      success: { status: 200, description: 'Certificates', body: InventorySchema },
      errors: READ,
      async handle(req) {
        return { status: 200, body: select(await inventory.tenant(await req.store.tenant(req.params.tenant!), await req.store.acme.listCertificates()), req.query) };
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/certificate-inventory`,
      operationId: 'listPlatformCertificateInventory',
      summary: "Every certificate the gateway serves, trusts or issued, in every tenant, and the listener's own (platform administrators)",
      tag: 'PKI',
      permission: anyTenant('metrics.read'),
      query: QUERY,
      success: { status: 200, description: 'Certificates', body: InventorySchema },
      errors: [400, 401, 403, 503],
      async handle(req) {
        return { status: 200, body: select(await inventory.all(req.store), req.query) };
      },
    },
  ];
}
