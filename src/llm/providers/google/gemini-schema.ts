/**
 * JSON Schema → the OpenAPI-subset `Schema` Google accepts for function parameters and
 * `responseSchema`. Google answers 400 to any keyword outside its subset (`additionalProperties`,
 * `$schema`, `strict`, `$ref`…), so keywords are kept by allow-list; local `$ref`s are inlined,
 * `oneOf` becomes `anyOf`, `const` becomes a one-value `enum`, and `type: [T, "null"]` becomes
 * `type: T, nullable: true`.
 *
 * Reference: https://ai.google.dev/api/caching#Schema
 */

type Json = Record<string, unknown>;

/** Keywords copied as they are (after the special cases below). */
const PLAIN_KEYS = [
  'title',
  'description',
  'nullable',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'default',
  'example',
  'propertyOrdering',
] as const;

/** The only `format`s Google accepts, per type. */
const FORMATS: Record<string, readonly string[]> = {
  STRING: ['enum', 'date-time'],
  INTEGER: ['int32', 'int64'],
  NUMBER: ['float', 'double'],
};

const TYPES = new Set(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT']);

/** Nesting beyond this (recursive `$ref`s) is cut to a bare object. */
const MAX_DEPTH = 12;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function resolveRef(ref: string, root: Json): Json | undefined {
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (!m) return undefined;
  const defs = root[m[1]!];
  const target = isObject(defs) ? defs[decodeURIComponent(m[2]!).replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  return isObject(target) ? target : undefined;
}

function typeOf(schema: Json): { type?: string; nullable?: boolean } {
  const t = schema.type;
  const names = (Array.isArray(t) ? t : [t]).filter((x): x is string => typeof x === 'string').map((x) => x.toUpperCase());
  const nullable = names.includes('NULL');
  const type = names.find((x) => TYPES.has(x));
  return { ...(type ? { type } : {}), ...(nullable ? { nullable: true } : {}) };
}

function convert(input: Json, root: Json, depth: number): Json {
  if (depth > MAX_DEPTH) return { type: 'OBJECT' };
  const { $ref, ...own } = input;
  const schema = typeof $ref === 'string' ? { ...resolveRef($ref, root), ...own } : own;
  const out: Json = typeOf(schema);
  for (const k of PLAIN_KEYS) if (schema[k] !== undefined) out[k] = schema[k];

  const format = schema.format;
  if (typeof format === 'string' && typeof out.type === 'string' && FORMATS[out.type]?.includes(format)) out.format = format;

  const values = schema.const !== undefined ? [schema.const] : schema.enum;
  // Google takes enums of strings only.
  if (Array.isArray(values) && (out.type === undefined || out.type === 'STRING')) {
    out.type = 'STRING';
    out.enum = values.filter((v) => v !== null).map(String);
  }

  if (isObject(schema.properties)) {
    const props: Json = {};
    for (const [name, sub] of Object.entries(schema.properties)) {
      // Defined, not assigned: a property may be called "__proto__".
      if (isObject(sub)) Object.defineProperty(props, name, { value: convert(sub, root, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    out.properties = props;
    out.type ??= 'OBJECT';
    if (Array.isArray(schema.required)) out.required = schema.required.filter((r) => typeof r === 'string' && Object.hasOwn(props, r));
  }
  if (isObject(schema.items)) {
    out.items = convert(schema.items, root, depth + 1);
    out.type ??= 'ARRAY';
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) {
    const alts = alternatives.filter(isObject);
    const nonNull = alts.filter((a) => a.type !== 'null');
    if (nonNull.length < alts.length) out.nullable = true;
    // A lone alternative besides null is the schema itself ("Optional[T]").
    if (nonNull.length === 1 && out.type === undefined) return { ...convert(nonNull[0]!, root, depth + 1), ...out };
    if (nonNull.length > 0) out.anyOf = nonNull.map((a) => convert(a, root, depth + 1));
  }
  return out;
}

/** A JSON Schema rewritten into Google's Schema subset (a new object; the input is not modified). */
export function toGoogleSchema(schema: Record<string, unknown>): Record<string, unknown> {
  return convert(schema, schema, 0);
}

/**
 * Function `parameters` for Google: undefined when the function takes no arguments (Google rejects an
 * OBJECT schema whose `properties` is empty).
 */
export function toGoogleParameters(schema: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!schema) return undefined;
  const out = toGoogleSchema(schema);
  if (out.type === 'OBJECT' && (!isObject(out.properties) || Object.keys(out.properties).length === 0)) return undefined;
  return out;
}
