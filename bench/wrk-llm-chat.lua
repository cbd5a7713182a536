-- wrk script of the llm-chat scenario of `npm run bench`: a small non-streaming chat completion for the
-- gateway's LLM API. The body is kept identical to LLM_CHAT_BODY in bench/llm-scenarios.mjs.
wrk.method = "POST"
wrk.body = '{"model":"bench/gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'
wrk.headers["Content-Type"] = "application/json"
