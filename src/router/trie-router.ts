/**
 * The default {@link Router}: hash maps for hosts and exact paths, and a segment trie for prefixes.
 * Lookup walks at most one trie branch (the request's own segments), so its cost is independent of
 * how many routes are configured.
 */

import { normalisePattern, RouteConflictError, type RouteDefinition, type RouteHit, type Router } from './router.js';

class MethodTable<T> {
  readonly byMethod = new Map<string, RouteHit<T> & { id: string }>();
  any: (RouteHit<T> & { id: string }) | undefined;

  add(methods: readonly string[], hit: RouteHit<T> & { id: string }, where: string): void {
    if (methods.length === 0) {
      if (this.any) throw new RouteConflictError(this.any.id, hit.id, where);
      this.any = hit;
      return;
    }
    for (const m of methods) {
      const existing = this.byMethod.get(m);
      if (existing) throw new RouteConflictError(existing.id, hit.id, `${m} ${where}`);
      this.byMethod.set(m, hit);
    }
  }

  lookup(method: string): RouteHit<T> | undefined {
    return this.byMethod.get(method) ?? this.any ?? (method === 'HEAD' ? this.byMethod.get('GET') : undefined);
  }

  allowed(): string[] {
    return [...this.byMethod.keys()];
  }
}

interface TrieNode<T> {
  readonly children: Map<string, TrieNode<T>>;
  table: MethodTable<T> | undefined;
}

/**
 * Collects the allowed methods of the most specific path that matched without a method. Lookups on
 * the hit path pass `undefined` and allocate nothing.
 */
interface MissState {
  allowed: string[] | undefined;
}

class PathTable<T> {
  readonly exact = new Map<string, MethodTable<T>>();
  readonly root: TrieNode<T> = { children: new Map(), table: undefined };

  add(def: RouteDefinition<T>, hostLabel: string): void {
    for (const p of def.paths) {
      const pattern = normalisePattern(p.path);
      const hit = { id: def.id, value: def.value, pattern, match: p.match };
      const where = `${p.match} path "${pattern}"${hostLabel}`;
      if (p.match === 'exact') {
        let table = this.exact.get(pattern);
        if (!table) this.exact.set(pattern, (table = new MethodTable()));
        table.add(def.methods, hit, where);
      } else {
        const node = this.node(pattern);
        node.table ??= new MethodTable();
        node.table.add(def.methods, hit, where);
      }
    }
  }

  private node(pattern: string): TrieNode<T> {
    let node = this.root;
    if (pattern === '/') return node;
    for (const seg of pattern.slice(1).split('/')) {
      let child = node.children.get(seg);
      if (!child) node.children.set(seg, (child = { children: new Map(), table: undefined }));
      node = child;
    }
    return node;
  }

  lookup(method: string, path: string, miss: MissState | undefined): RouteHit<T> | undefined {
    const exact = this.exact.get(path);
    if (exact) {
      const hit = exact.lookup(method);
      if (hit) return hit;
      if (miss) miss.allowed ??= exact.allowed();
    }
    return walk(this.root, path, 0, method, miss);
  }
}

/** Deepest matching prefix first; `pos` is the index of the "/" that starts the next segment. */
function walk<T>(node: TrieNode<T>, path: string, pos: number, method: string, miss: MissState | undefined): RouteHit<T> | undefined {
  if (pos < path.length && node.children.size > 0) {
    let end = path.indexOf('/', pos + 1);
    if (end === -1) end = path.length;
    const child = node.children.get(path.slice(pos + 1, end));
    if (child) {
      const hit = walk(child, path, end, method, miss);
      if (hit) return hit;
    }
  }
  if (!node.table) return undefined;
  const hit = node.table.lookup(method);
  if (!hit && miss) miss.allowed ??= node.table.allowed();
  return hit;
}

export class TrieRouter<T> implements Router<T> {
  private readonly exactHosts = new Map<string, PathTable<T>>();
  /** Key: the suffix after "*." */
  private readonly wildcardHosts = new Map<string, PathTable<T>>();
  private readonly anyHost = new PathTable<T>();
  readonly size: number;

  /** Throws {@link RouteConflictError} when two definitions overlap. */
  constructor(definitions: Iterable<RouteDefinition<T>>) {
    let size = 0;
    for (const def of definitions) {
      size++;
      if (def.hosts.length === 0) {
        this.anyHost.add(def, '');
        continue;
      }
      for (const host of def.hosts) {
        const wildcard = host.startsWith('*.');
        const map = wildcard ? this.wildcardHosts : this.exactHosts;
        const key = wildcard ? host.slice(2) : host;
        let table = map.get(key);
        if (!table) map.set(key, (table = new PathTable()));
        table.add(def, ` for host "${host}"`);
      }
    }
    this.size = size;
  }

  match(method: string, host: string, path: string): RouteHit<T> | undefined {
    return this.lookup(method, host, path, undefined);
  }

  allowedMethods(host: string, path: string): string[] {
    const miss: MissState = { allowed: undefined };
    // A method no route lists: every path-matching table reports its methods.
    this.lookup('\u0000', host, path, miss);
    return miss.allowed ?? [];
  }

  private lookup(method: string, host: string, path: string, miss: MissState | undefined): RouteHit<T> | undefined {
    const exact = this.exactHosts.get(host);
    let hit = exact?.lookup(method, path, miss);
    if (!hit && this.wildcardHosts.size > 0) {
      const dot = host.indexOf('.');
      if (dot > 0) hit = this.wildcardHosts.get(host.slice(dot + 1))?.lookup(method, path, miss);
    }
    return hit ?? this.anyHost.lookup(method, path, miss);
  }
}
