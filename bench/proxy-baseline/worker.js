// Baseline for the origin benchmark: a plain JavaScript worker that passes
// every request to ORIGIN and streams the answer back, with no checks at all.
// It measures what workerd under `wrangler dev` costs by itself, so the
// gateway's own share of the added latency can be read off side by side.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const answer = await fetch(env.ORIGIN + url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    return new Response(answer.body, answer);
  },
};
