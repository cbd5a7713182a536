/**
 * A small client for the admin API, used by the CLI. It trusts one CA (the development CA in the
 * data directory by default), sends the bearer token, and turns error answers into
 * {@link AdminApiError}s carrying the server's message and field details.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { ConfigChange } from '../config/config-diff.js';
import type { ConfigDocument } from '../config/config-document.js';
import type { ErrorDetail } from '../core/errors.js';

export interface AdminClientOptions {
  /** Base URL, e.g. https://127.0.0.1:9443 (a trailing slash is fine). */
  adminUrl: string;
  token: string;
  /** PEM file of the CA to trust. Default `<dataDir>/ca.pem`. */
  caFile?: string | undefined;
  /** Used for the default `caFile`. Default `.portcullis`. */
  dataDir?: string | undefined;
  /** Per-request timeout, ms. Default 30 000. */
  timeoutMs?: number | undefined;
}

/** An error answer from the admin API (or an unusable one). The message is the server's. */
export class AdminApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly type: string | undefined,
    readonly details: readonly ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export interface ApplyResponse {
  applied: boolean;
  changes: ConfigChange[];
  revision: number;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

function errorFromBody(status: number, body: unknown): AdminApiError {
  const e = (body as { error?: { message?: unknown; code?: unknown; type?: unknown; details?: unknown } } | undefined)?.error;
  if (e && typeof e.message === 'string') {
    const details = Array.isArray(e.details) ? (e.details.filter((d) => d && typeof d.path === 'string' && typeof d.message === 'string') as ErrorDetail[]) : [];
    return new AdminApiError(e.message, status, typeof e.code === 'string' ? e.code : undefined, typeof e.type === 'string' ? e.type : undefined, details);
  }
  return new AdminApiError(`admin API answered HTTP ${status}`, status, undefined, undefined);
}

export class AdminClient {
  readonly #base: URL;
  readonly #token: string;
  readonly #caFile: string;
  readonly #timeoutMs: number;
  #agent: Promise<Agent> | undefined;

  constructor(opts: AdminClientOptions) {
    let base: URL;
    try {
      base = new URL(opts.adminUrl);
    } catch {
      throw new Error(`invalid admin URL "${opts.adminUrl}"`);
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error('the admin URL must start with https://');
    this.#base = base;
    this.#token = opts.token;
    this.#caFile = opts.caFile ?? join(opts.dataDir ?? '.portcullis', 'ca.pem');
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Where requests go (no credentials). */
  get adminUrl(): string {
    return this.#base.origin;
  }

  #dispatcher(): Promise<Agent> {
    this.#agent ??= (async () => {
      if (this.#base.protocol !== 'https:') return new Agent();
      let ca: string;
      try {
        ca = await readFile(this.#caFile, 'utf8');
      } catch (err) {
        throw new Error(`cannot read the CA certificate ${this.#caFile} (${(err as NodeJS.ErrnoException).code ?? 'error'}); pass --cacert or set PORTCULLIS_CA_FILE`);
      }
      return new Agent({ connect: { ca } });
    })();
    return this.#agent;
  }

  /**
   * Sends a request; resolves with the parsed JSON answer (undefined for an empty one). Throws
   * AdminApiError for an error answer, Error when the server cannot be reached.
   */
  async request<T = unknown>(method: Method, path: string, opts: { body?: unknown; query?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<T> {
    const { status, text } = await this.#send(method, path, opts);
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        if (status >= 400) throw new AdminApiError(`admin API answered HTTP ${status}`, status, undefined, undefined);
        throw new AdminApiError('admin API answered with something that is not JSON', status, undefined, undefined);
      }
    }
    if (status >= 400) throw errorFromBody(status, body);
    return body as T;
  }

  /** Like {@link request} for endpoints answering text (PEM): resolves with the body as is. */
  async requestText(method: Method, path: string): Promise<string> {
    const { status, text } = await this.#send(method, path, { headers: { accept: '*/*' } });
    if (status >= 400) {
      let body: unknown;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        /* not JSON */
      }
      throw errorFromBody(status, body);
    }
    return text;
  }

  async #send(method: Method, path: string, opts: { body?: unknown; query?: Record<string, string>; headers?: Record<string, string> }): Promise<{ status: number; text: string }> {
    const basePath = this.#base.pathname.replace(/\/+$/, '');
    const url = new URL(`${basePath}${path}`, this.#base);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const dispatcher = await this.#dispatcher();
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method,
        dispatcher,
        reset: true, // one-shot CLI requests: do not keep the process alive on an idle connection
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${this.#token}`,
          ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...opts.headers,
        },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = (err as Error).message || code || 'error';
      const hint = /certificate|self.signed|CERT_|issuer/i.test(`${why} ${code ?? ''}`) ? ' (is the right CA certificate trusted? see --cacert)' : '';
      throw new Error(`cannot reach the admin API at ${this.#base.origin}: ${why}${hint}`, { cause: err });
    }
    return { status: res.statusCode, text: await res.body.text() };
  }

  /** GET /admin/v1/tenants/{tenant}/config */
  getConfig(tenant: string): Promise<ConfigDocument> {
    return this.request<ConfigDocument>('GET', `/admin/v1/tenants/${encodeURIComponent(tenant)}/config`);
  }

  /** POST /admin/v1/tenants/{tenant}/config?dryRun=… */
  applyConfig(tenant: string, document: unknown, opts: { dryRun: boolean }): Promise<ApplyResponse> {
    return this.request<ApplyResponse>('POST', `/admin/v1/tenants/${encodeURIComponent(tenant)}/config`, {
      body: document,
      query: { dryRun: String(opts.dryRun) },
    });
  }

  /** Closes connections. Idempotent. */
  async close(): Promise<void> {
    const agent = this.#agent;
    this.#agent = undefined;
    if (agent) await (await agent.catch(() => undefined))?.close();
  }
}
