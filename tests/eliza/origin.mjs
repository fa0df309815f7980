// A real ElizaOS 1.7 server (`@elizaos/server`, embedded PGLite) for the
// tests, with a deterministic model plugin instead of an LLM provider, so its
// agents really answer, with no network.
//
//   node tests/eliza/origin.mjs [--port N] [--data-dir DIR]
//
// (or ELIZA_ORIGIN_PORT / ELIZA_ORIGIN_DATA_DIR). Port 0 or none: a free one.
// Prints one line `ELIZA_READY <port>` once it listens on 127.0.0.1, and
// stops on SIGTERM/SIGINT. `ELIZA_SERVER_AUTH_TOKEN`, if set, is the
// server's own API key (every /api request then needs `X-API-KEY`).
//
// The model plugin (`agentgateModelPlugin`, also exported by model.mjs):
// every agent's reply to a message is `echo: <the user's text>`.

import dns from "node:dns";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    "data-dir": { type: "string" },
  },
});
const port = Number(args.port ?? process.env.ELIZA_ORIGIN_PORT ?? 0);
const dataDir = path.resolve(
  args["data-dir"] ?? process.env.ELIZA_ORIGIN_DATA_DIR ?? fail("--data-dir is required"),
);

function fail(message) {
  console.error(`origin.mjs: ${message}`);
  process.exit(2);
}

// --- No internet, ever -------------------------------------------------------
// Everything this process may talk to is on loopback. Any other host name
// lookup is refused (and reported on stderr), so a forgotten telemetry or
// update check fails here instead of leaving the machine.
const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);
const realLookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, options, callback) {
  if (LOOPBACK_NAMES.has(String(hostname).toLowerCase())) {
    return realLookup.call(dns, hostname, options, callback);
  }
  const cb = typeof options === "function" ? options : callback;
  console.error(`ELIZA_ORIGIN_BLOCKED_LOOKUP ${hostname}`);
  const err = Object.assign(new Error(`agentgate test origin: no network (${hostname})`), {
    code: "ENOTFOUND",
    hostname,
  });
  process.nextTick(() => cb(err));
  return {};
};
const realPromisesLookup = dns.promises.lookup;
dns.promises.lookup = async (hostname, options) => {
  if (LOOPBACK_NAMES.has(String(hostname).toLowerCase())) {
    return realPromisesLookup.call(dns.promises, hostname, options);
  }
  console.error(`ELIZA_ORIGIN_BLOCKED_LOOKUP ${hostname}`);
  throw Object.assign(new Error(`agentgate test origin: no network (${hostname})`), {
    code: "ENOTFOUND",
    hostname,
  });
};

// --- Environment the server reads -------------------------------------------
fs.mkdirSync(dataDir, { recursive: true });
const env = process.env;
env.SERVER_HOST = "127.0.0.1";
env.ELIZA_UI_ENABLE = "false";
// Error reports go to Sentry's cloud unless pointed elsewhere: a dead
// loopback address (discard port).
env.SENTRY_DSN = "http://agentgate@127.0.0.1:9/1";
env.SENTRY_TRACES_SAMPLE_RATE = "0";
// Never `bun add` a plugin it cannot import.
env.ELIZA_NO_AUTO_INSTALL = "true";
env.ELIZA_NO_PLUGIN_AUTO_INSTALL = "true";
// Everything it writes (PGLite, uploads, generated media) under dataDir.
env.ELIZA_DATA_DIR = dataDir;
env.PGLITE_DATA_DIR = path.join(dataDir, "pglite");
env.LOG_LEVEL ??= "warn";
env.NO_UPDATE_NOTIFIER = "1";
env.DO_NOT_TRACK = "1";
// Agents' secrets are encrypted with this salt (ElizaOS's default is public).
env.SECRET_SALT ??= randomBytes(16).toString("hex");
// The server reads and writes the `.env` it finds from its working directory
// upwards (GET/POST /api/system/env/local, dotenv at start): give it an empty
// one of its own, never the repository's.
const envFile = path.join(dataDir, ".env");
if (!fs.existsSync(envFile)) fs.writeFileSync(envFile, "");
process.chdir(dataDir);

const { AgentServer } = await import("@elizaos/server");
const { agentgateModelPlugin } = await import("./model.mjs");

const server = new AgentServer();

// Every agent the server starts (from POST /api/agents/:id/start or an
// update that restarts it) gets the deterministic model plugin.
const startAgents = server.startAgents.bind(server);
server.startAgents = (agents, options) =>
  startAgents(
    agents.map((agent) => ({
      ...agent,
      plugins: [...(agent.plugins ?? []), agentgateModelPlugin],
    })),
    options,
  );

// AgentServer takes no port 0: find a free one (it moves on to the next port
// itself if this one is taken meanwhile; the line below names the real one).
await server.start({ port: port || (await freePort()), dataDir: env.PGLITE_DATA_DIR });
const bound = server.server.address().port;
// The agents' message bus posts replies back to this server over HTTP: make
// that the loopback address it listens on (not `localhost`).
env.CENTRAL_MESSAGE_SERVER_URL = `http://127.0.0.1:${bound}`;
console.log(`ELIZA_READY ${bound}`);

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
}
