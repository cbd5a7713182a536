import { isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { gatewayError, type ErrorDetail } from '../core/errors.js';

export interface YamlSource {
  readonly value: unknown;
  /** 1-based line and column of the node at `path`, or of its nearest ancestor that exists. */
  locate(path: readonly PropertyKey[]): { line: number; column: number } | undefined;
}

/**
 * Parses YAML (or JSON, a subset) keeping node positions, so every later validation error can point at
 * a line and column. Throws CONFIG_INVALID with `file:line:column` details on syntax errors.
 */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const details: ErrorDetail[] = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return { path: file, message: e.message.split('\n')[0]!, ...(pos ? { line: pos.line, column: pos.col } : {}) };
    });
    const first = details[0]!;
    throw gatewayError('CONFIG_INVALID', `${file}:${first.line ?? 1}:${first.column ?? 1}: ${first.message}`, details);
  }
  return {
    value: doc.toJS({ maxAliasCount: 100 }),
    locate(path) {
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n) as unknown[], true);
        if (isNode(node) && node.range) {
          const { line, col } = lineCounter.linePos(node.range[0]);
          return { line, column: col };
        }
      }
      return undefined;
    },
  };
}

/**
 * Validates a parsed YAML source with a schema. Throws CONFIG_INVALID whose message and details name
 * `file:line:column` and the field path of every problem.
 */
export function validateYamlSource<S extends z.ZodType>(source: YamlSource, schema: S, file: string): z.output<S> {
  const r = schema.safeParse(source.value ?? {});
  if (r.success) return r.data;
  const details: ErrorDetail[] = r.error.issues.map((i) => {
    const pos = source.locate(i.path);
    return { path: i.path.map(String).join('.'), message: i.message, ...(pos ? { line: pos.line, column: pos.column } : {}) };
  });
  const first = details[0]!;
  throw gatewayError('CONFIG_INVALID', `${file}:${first.line ?? 1}:${first.column ?? 1}: ${first.path ? `${first.path}: ` : ''}${first.message}`, details);
}
