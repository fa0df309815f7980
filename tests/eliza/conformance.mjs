// Drives the official `@elizaos/api-client` 1.7.2 through every call it
// offers, in a sensible order with real ids, against one base URL: the real
// ElizaOS origin directly, or the gateway in front of it. Records per call
//   {service, method, httpMethod, path, ok, status, errorCode, error, requests}
// (path with the ids it created replaced by :names, so runs compare), prints
// the records as JSON, then a table on stderr, then one line `N ok of M`.
//
//   node tests/eliza/conformance.mjs --base-url URL [--api-key KEY]
//        [--out FILE] [--skip service.method,...] [--timeout-ms N]
//
// A call is ok when it resolved without throwing and every HTTP request it
// made was answered 2xx/3xx. Every method of every service of the client is
// counted: one the plan below does not reach is recorded as NOT_EXERCISED,
// one named in --skip as SKIPPED (e.g. server.stopServer, which stops the
// origin for everyone: it runs last).

import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { ElizaClient } from "@elizaos/api-client";

const { values: args } = parseArgs({
  options: {
    "base-url": { type: "string" },
    "api-key": { type: "string" },
    out: { type: "string" },
    skip: { type: "string", default: "" },
    "timeout-ms": { type: "string", default: "15000" },
  },
});
const baseUrl = args["base-url"];
if (!baseUrl) {
  console.error("usage: conformance.mjs --base-url URL [--api-key KEY] [--out FILE] [--skip a.b,c.d]");
  process.exit(2);
}
const skip = new Set(args.skip.split(",").map((s) => s.trim()).filter(Boolean));
const require = createRequire(import.meta.url);
const clientVersion = JSON.parse(
  readFileSync(require.resolve("@elizaos/api-client/package.json"), "utf8"),
).version;

// Methods of the services that are helpers, not calls of the API.
const HELPERS = new Set([
  "constructor",
  "requestBinary",
  "processAudioInput",
  "isBase64String",
  "isBuffer",
  "buildUrl",
  "getHeaders",
]);
const DEFAULT_SERVER = "00000000-0000-0000-0000-000000000000";

// --- Every HTTP request a call makes -----------------------------------------
let requests = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const url = new URL(typeof input === "string" ? input : input.url);
  const entry = { method: (init.method ?? "GET").toUpperCase(), url, status: 0 };
  requests.push(entry);
  const response = await realFetch(input, init);
  entry.status = response.status;
  return response;
};

// Ids this run created, to template paths (`/api/agents/:agentId`).
const names = new Map();
function named(id, name) {
  if (typeof id === "string" && id && !names.has(id)) names.set(id, `:${name}`);
  return id;
}
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
function template(url) {
  let path = url.pathname;
  for (const [id, name] of names) path = path.split(id).join(name);
  // Ids made inside a call (createAndPoll's job) or by the server itself.
  return path.replace(UUID, (id) => (id === DEFAULT_SERVER ? id : ":id"));
}

const client = new ElizaClient({
  baseUrl,
  apiKey: args["api-key"] || undefined,
  timeout: Number(args["timeout-ms"]),
});

const records = [];
const reached = new Set();

/** Calls client[service][method](...args) and records the outcome. */
async function call(service, method, ...callArgs) {
  const key = `${service}.${method}`;
  reached.add(key);
  if (skip.has(key)) {
    records.push({ service, method, ok: false, status: null, errorCode: "SKIPPED", requests: [] });
    return undefined;
  }
  requests = [];
  let value;
  let error;
  const started = Date.now();
  try {
    value = await client[service][method](...callArgs);
  } catch (e) {
    error = e;
  }
  const made = requests.map((r) => ({ method: r.method, path: template(r.url), status: r.status }));
  const last = made[made.length - 1];
  const httpOk = made.every((r) => r.status >= 200 && r.status < 400);
  // The client reports some failures in its result instead of throwing
  // (jobs.poll & co.: `{success: false, job}`).
  const resultOk = !(value && typeof value === "object" && value.success === false);
  const record = {
    service,
    method,
    httpMethod: last?.method ?? null,
    path: last?.path ?? null,
    ok: !error && httpOk && resultOk,
    status: error?.status ?? last?.status ?? null,
    errorCode: error
      ? (error.code ?? error.name ?? "ERROR")
      : !httpOk
        ? "HTTP_STATUS"
        : resultOk
          ? null
          : `RESULT_${String(value.job?.status ?? "UNSUCCESSFUL").toUpperCase()}`,
    error: error ? String(error.message ?? error).slice(0, 200) : undefined,
    ms: Date.now() - started,
    requests: made,
  };
  records.push(record);
  return error ? undefined : value;
}

/** A tiny valid WAV (8-bit mono silence). */
function wav(samples = 800) {
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(36 + samples, 4);
  h.write("WAVEfmt ", 8, "ascii");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(8000, 28);
  h.writeUInt16LE(1, 32);
  h.writeUInt16LE(8, 34);
  h.write("data", 36, "ascii");
  h.writeUInt32LE(samples, 40);
  return Buffer.concat([h, Buffer.alloc(samples, 128)]);
}
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- The plan -----------------------------------------------------------------
const suffix = randomUUID().slice(0, 8);
const user = named(randomUUID(), "userId");
const user2 = named(randomUUID(), "user2Id");
const user3 = named(randomUUID(), "user3Id");

// Server and system.
await call("server", "ping");
await call("server", "hello");
await call("server", "getStatus");
await call("server", "getDebugInfo");
await call("system", "getEnvironment");
await call("system", "updateLocalEnvironment", { CONFORMANCE_SETTING: suffix });

// Agents.
await call("agents", "listAgents");
const created = await call("agents", "createAgent", {
  characterJson: {
    name: `Conformance ${suffix}`,
    bio: ["An agent the api-client conformance run creates."],
  },
});
const agentId = named(created?.id ?? created?.character?.id, "agentId");
await call("agents", "getAgent", agentId);
await call("agents", "updateAgent", agentId, {
  bio: ["An agent the api-client conformance run created and updated."],
});
await call("agents", "startAgent", agentId);
// 503 while no agent runs.
await call("server", "checkHealth");
await call("agents", "getAgentPanels", agentId);

// Message servers.
await call("messaging", "getCurrentMessageServer");
await call("messaging", "listMessageServers");
const messageServer = await call("messaging", "createMessageServer", {
  name: `conformance ${suffix}`,
  sourceType: "conformance",
  sourceId: suffix,
});
const messageServerId = named(messageServer?.id ?? messageServer?.server?.id, "messageServerId");
await call("messaging", "getMessageServerChannels", DEFAULT_SERVER);
await call("agents", "getAgentsForMessageServer", DEFAULT_SERVER);
// Only the server's own message server takes agents (others: 403).
await call("agents", "addAgentToMessageServer", DEFAULT_SERVER, agentId);
await call("agents", "getMessageServersForAgent", agentId);
await call("messaging", "syncMessageServerChannels", messageServerId, { channels: [] });

// Channels and messages.
const plain = await call("messaging", "createChannel", { name: `plain ${suffix}`, type: "GROUP" });
named(plain?.id, "plainChannelId");
const group = await call("messaging", "createGroupChannel", {
  name: `group ${suffix}`,
  participantIds: [user],
});
const channelId = named(group?.id, "channelId");
const dm = await call("messaging", "getOrCreateDmChannel", { participantIds: [user, agentId] });
named(dm?.id, "dmChannelId");
await call("messaging", "getChannelDetails", channelId);
await call("messaging", "getChannelParticipants", channelId);
await call("messaging", "addAgentToChannel", channelId, agentId);
await call("messaging", "postMessage", channelId, `posted ${suffix}`, { user_display_name: "Conformance" });
await call("messaging", "submitMessage", {
  channel_id: channelId,
  message_server_id: DEFAULT_SERVER,
  author_id: user,
  content: `submitted ${suffix}`,
  source_type: "conformance",
  raw_message: { text: `submitted ${suffix}` },
});
await call("messaging", "ingestExternalMessages", {
  channel_id: channelId,
  message_server_id: DEFAULT_SERVER,
  author_id: user,
  content: `ingested ${suffix}`,
  source_type: "conformance",
  source_id: suffix,
  raw_message: { text: `ingested ${suffix}` },
});
const listed = await call("messaging", "getChannelMessages", channelId, { limit: 50 });
const messageId = named(listed?.messages?.[0]?.id, "messageId");
await call("messaging", "getMessage", messageId);
await call("messaging", "updateMessage", messageId, `edited ${suffix}`);
await call("messaging", "searchMessages", { query: suffix, channelId, limit: 10 });
await call("messaging", "completeMessage", { channelId, messageServerId: DEFAULT_SERVER });
await call("messaging", "updateChannel", channelId, { name: `group ${suffix} renamed` });
await call("media", "uploadChannelMedia", channelId, new File([PNG], "pixel.png", { type: "image/png" }));
await call("media", "uploadAgentMedia", agentId, {
  file: new Blob([PNG], { type: "image/png" }),
  filename: "pixel.png",
  contentType: "image/png",
});

// Sessions (the agent answers through the deterministic model).
await call("sessions", "checkHealth");
const session = await call("sessions", "createSession", { agentId, userId: user });
const sessionId = named(session?.sessionId, "sessionId");
named(session?.channelId, "sessionChannelId");
await call("sessions", "getSession", sessionId);
await call("sessions", "sendMessage", sessionId, { content: `session ${suffix}` });
await call("sessions", "sendMessageSync", sessionId, { content: `session sync ${suffix}` });
await call("sessions", "getMessages", sessionId, { limit: 20 });
await call("sessions", "listSessions");

// Jobs (one-off questions; the agent answers on the message bus).
await call("jobs", "health");
// timeoutMs: the server's minimum (1 s), so an unanswered job ends soon.
const jobParams = (content) => ({ agentId, userId: user, content, timeoutMs: 1000 });
const polling = { interval: 250, maxAttempts: 12 };
const job = await call("jobs", "create", jobParams(`job ${suffix}`));
const jobId = named(job?.jobId, "jobId");
await call("jobs", "getJob", jobId);
await call("jobs", "list", { limit: 10 });
await call("jobs", "poll", jobId, polling);
await call("jobs", "createAndPoll", jobParams(`job poll ${suffix}`), polling);
await call("jobs", "createAndPollWithBackoff", jobParams(`job backoff ${suffix}`), {
  initialInterval: 250,
  maxInterval: 500,
  maxAttempts: 12,
});
await call("jobs", "ask", user, `job ask ${suffix}`, agentId, polling);

// Runs and logs (the exchanges above left some).
await sleep(300);
const runs = await call("runs", "listRuns", agentId, { limit: 20 });
const run = runs?.runs?.[0];
const runId = named(run?.runId ?? run?.id, "runId");
await call("runs", "getRun", agentId, runId, run?.roomId);
const logs = await call("agents", "getAgentLogs", agentId, { limit: 20 });
const logId = named((Array.isArray(logs) ? logs : logs?.logs)?.[0]?.id, "logId");
await call("agents", "deleteAgentLog", agentId, logId);

// Worlds.
const worldId = named(randomUUID(), "worldId");
await call("memory", "createWorldFromMessageServer", DEFAULT_SERVER, {
  name: `world ${suffix}`,
  worldId,
  source: "conformance",
  agentIds: [agentId],
});
await call("agents", "getWorlds");
await call("agents", "addAgentToWorld", agentId, worldId);
await call("agents", "updateAgentWorldSettings", agentId, worldId, { conformance: suffix });

// Memory and rooms.
const rooms = await call("memory", "listAgentRooms", agentId);
const roomList = Array.isArray(rooms) ? rooms : (rooms?.rooms ?? []);
const roomId = named(roomList[0]?.id, "roomId");
await call("memory", "getRoom", agentId, roomId);
const room = await call("memory", "createRoom", agentId, { name: `room ${suffix}`, worldId });
named(room?.id, "createdRoomId");
const memories = await call("memory", "getAgentMemories", agentId, { limit: 50 });
const memoryList = Array.isArray(memories) ? memories : (memories?.memories ?? []);
const memoryId = named(memoryList[0]?.id, "memoryId");
const memoryId2 = named(memoryList[1]?.id, "memory2Id");
const memoryRoomId = named(memoryList[0]?.roomId, "memoryRoomId");
await call("memory", "getRoomMemories", agentId, memoryRoomId, { limit: 20 });
await call("memory", "getAgentInternalMemories", agentId, memoryRoomId, false);
await call("memory", "updateMemory", agentId, memoryId, { content: { text: `memory edited ${suffix}` } });
await call("memory", "updateAgentInternalMemory", agentId, memoryId2, { content: { text: `internal edited ${suffix}` } });
await call("memory", "deleteMemory", agentId, memoryId);
await call("memory", "deleteAgentInternalMemory", agentId, memoryId2);
await call("memory", "clearRoomMemories", agentId, roomId);
await call("memory", "deleteAllAgentInternalMemories", agentId, memoryRoomId);
await call("memory", "clearAgentMemories", agentId);

// Audio (the deterministic model transcribes and speaks).
await call("audio", "synthesizeAudioMessage", agentId, { text: `speak ${suffix}` });
await call("audio", "generateSpeech", agentId, { text: `speak ${suffix}` });
await call("audio", "transcribe", agentId, { audio: wav(), format: "wav" });
await call("audio", "speechConversation", agentId, { audio: wav(), format: "wav" });
await call("audio", "processSpeech", agentId, wav(), { source: "conformance" });

// Cleaning up messages, channels, worlds, servers, sessions.
const latest = async () =>
  (await client.messaging.getChannelMessages(channelId, { limit: 50 }).catch(() => null))?.messages ?? [];
const messageId2 = named((await latest())[0]?.id, "message2Id");
await call("messaging", "deleteMessage", channelId, messageId2);
const messageId3 = named((await latest())[0]?.id, "message3Id");
await call("memory", "deleteGroupMemory", channelId, messageId3);
await call("messaging", "generateChannelTitle", channelId, agentId);
await call("messaging", "clearChannelHistory", channelId);
await call("memory", "clearGroupChat", channelId);
await call("messaging", "removeAgentFromChannel", channelId, agentId);
// The client's user calls set the participants to the channel metadata's
// list (not the agent): after the agent has left.
await call("messaging", "addUserToChannel", channelId, user2);
await call("messaging", "addUsersToChannel", channelId, [user2, user3]);
await call("messaging", "removeUserFromChannel", channelId, user3);
await call("messaging", "deleteChannel", channelId);
await call("memory", "clearWorldMemories", worldId);
await call("memory", "deleteWorld", worldId);
await call("agents", "removeAgentFromMessageServer", DEFAULT_SERVER, agentId);
await call("messaging", "deleteMessageServer", messageServerId);
await call("sessions", "deleteSession", sessionId);

// Logs.
await call("server", "submitLogs", [{ level: "info", msg: `conformance ${suffix}` }]);
await call("system", "getGlobalLogs", { level: "all", limit: 10 });
await call("system", "deleteLog", "any");
await call("system", "deleteGlobalLogs");
await call("server", "clearLogs");

// The agent goes; then (unless skipped) the server itself.
await call("agents", "stopAgent", agentId);
await call("agents", "deleteAgent", agentId);
await call("server", "stopServer");

// --- Every call the client offers: the ones not reached ---------------------
const offered = [];
for (const [service, instance] of Object.entries(client)) {
  if (!instance || typeof instance !== "object") continue;
  const proto = Object.getPrototypeOf(instance);
  for (const method of Object.getOwnPropertyNames(proto)) {
    if (HELPERS.has(method) || typeof proto[method] !== "function") continue;
    offered.push(`${service}.${method}`);
    if (!reached.has(`${service}.${method}`)) {
      records.push({ service, method, ok: false, status: null, errorCode: "NOT_EXERCISED", requests: [] });
    }
  }
}

const ok = records.filter((r) => r.ok).length;
const summary = {
  client: `@elizaos/api-client@${clientVersion}`,
  baseUrl,
  withApiKey: Boolean(args["api-key"]),
  offered: offered.length,
  total: records.length,
  ok,
  records,
};
const json = JSON.stringify(summary, null, 2);
if (args.out) writeFileSync(args.out, `${json}\n`);
console.log(json);
for (const r of records) {
  const where = r.httpMethod ? `${r.httpMethod} ${r.path}` : "(no request)";
  const outcome = r.ok ? "ok" : `FAIL ${r.status ?? "-"} ${r.errorCode ?? ""}${r.error ? `: ${r.error}` : ""}`;
  console.error(`${`${r.service}.${r.method}`.padEnd(42)} ${where.padEnd(70)} ${outcome}`);
}
console.log(`${ok} ok of ${records.length}`);
// Sockets the client or the server left open must not keep this alive.
process.exit(0);
