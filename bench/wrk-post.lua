-- wrk script for `npm run bench`: every request is a small OpenAI-style chat completion POST.
-- The body is kept identical to BODY in bench/run.mjs and bench/autocannon-runner.mjs.
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'
wrk.headers["Content-Type"] = "application/json"
