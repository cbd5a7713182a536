/**
 * The request pipeline, in order. This list is the one place the phases are defined; plugins join
 * phases by implementing the matching hook of {@link PluginInstance}.
 *
 * | phase               | runs                                  | a thrown GatewayError becomes          |
 * |---------------------|---------------------------------------|----------------------------------------|
 * | connection / TLS    | listener, before HTTP                 | handshake refused (no HTTP response)   |
 * | route               | core: host + path + method → route    | 404 route_not_found, 405, 400          |
 * | onRequest           | every matched request, first          | its status (usually 400)               |
 * | authenticate        | who is calling                        | 401 with WWW-Authenticate              |
 * | authorize           | may the caller use this route         | 403                                    |
 * | policy              | rate limits, budgets, size limits     | 429 / 413                              |
 * | transformRequest    | rewrite headers, path, body           | 400 / 500                              |
 * | handler (terminal)  | proxy to the upstream, or a plugin's  | 502 / 504 before the response starts;  |
 * |                     | own handler (for example an LLM API)  | after it starts, the stream is cut     |
 * | onResponse          | response headers, reverse order       | 500 if thrown before headers are sent  |
 * | transformResponse   | streaming body transform, reverse     | stream cut                             |
 * | log                 | after the response ends or aborts     | never reaches the client; logged       |
 *
 * A hook may answer the request itself (for example a cache hit): it writes the response and calls
 * `ctx.respond…`, which marks the context as responded; later request phases are then skipped, but
 * `log` always runs.
 */
export const REQUEST_PHASES = ['onRequest', 'authenticate', 'authorize', 'policy', 'transformRequest'] as const;
export type RequestPhase = (typeof REQUEST_PHASES)[number];

export const RESPONSE_PHASES = ['onResponse', 'transformResponse'] as const;
export type ResponsePhase = (typeof RESPONSE_PHASES)[number];

export const ALL_PHASES = [...REQUEST_PHASES, 'handler', ...RESPONSE_PHASES, 'log'] as const;
export type Phase = (typeof ALL_PHASES)[number];
