import { z } from 'zod';
import { NameSchema } from './common.js';

/** A tenant (team) owns every other object. The `default` tenant always exists. */
export const TenantSpecSchema = z
  .object({
    name: NameSchema,
    displayName: z.string().max(200).optional(),
  })
  .strict();

export type TenantSpec = z.output<typeof TenantSpecSchema>;
