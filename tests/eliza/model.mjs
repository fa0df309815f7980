// A deterministic ElizaOS model plugin for the tests: answers from its input,
// never from the network, the same way every time.
//
// The reply to a user message is `echo: <the user's text>` (trimmed). To know
// the user's text, the plugin adds a provider that puts the message being
// handled into the prompt (base64, so any text survives), as a real model
// would see the conversation; the TEXT_LARGE handler reads it back from the
// prompt and answers in the XML the ElizaOS 1.7 message handler parses:
//
//   <response><thought>…</thought><actions>REPLY</actions>
//   <providers></providers><text>echo: …</text></response>
//
// Model types handled (everything @elizaos/core 1.7.2 and @elizaos/server
// 1.7.2 ask for on the message, channel, memory and audio paths):
//   TEXT_LARGE, TEXT_SMALL (also the should-respond and channel-title
//   prompts), TEXT_EMBEDDING (384 dims from SHA-256), TEXT_TOKENIZER_ENCODE /
//   _DECODE (code points), OBJECT_SMALL / OBJECT_LARGE, TRANSCRIPTION
//   ("transcript of N bytes"), TEXT_TO_SPEECH (a WAV whose samples are the
//   text's UTF-8 bytes), IMAGE_DESCRIPTION.
// It also records run events (RUN_STARTED/ENDED/TIMEOUT) as `run_event` logs,
// as plugin-bootstrap does in a stock deployment.

import { createHash } from "node:crypto";

export const REPLY_PREFIX = "echo: ";
export const TITLE = "Echo Conversation";
const MARK_OPEN = "<agentgate_user_message>";
const MARK_CLOSE = "</agentgate_user_message>";
const EMBEDDING_DIMENSIONS = 384;

/** The agent's reply to `text`. */
export function replyTo(text) {
  return `${REPLY_PREFIX}${text}`.trim();
}

function escapeXml(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The user's text the provider put into `prompt` (the last one), or "". */
function userText(prompt) {
  if (typeof prompt !== "string") return "";
  const start = prompt.lastIndexOf(MARK_OPEN);
  if (start === -1) return "";
  const end = prompt.indexOf(MARK_CLOSE, start);
  if (end === -1) return "";
  const b64 = prompt.slice(start + MARK_OPEN.length, end).trim();
  return Buffer.from(b64, "base64").toString("utf8");
}

function promptOf(params) {
  if (typeof params === "string") return params;
  return params?.prompt ?? params?.text ?? params?.input ?? "";
}

/** The message-handler answer: thought, REPLY, and the echo. */
function messageHandlerXml(prompt) {
  return [
    "<response>",
    "<thought>Echo the user's message back (agentgate test model).</thought>",
    "<actions>REPLY</actions>",
    "<providers></providers>",
    `<text>${escapeXml(replyTo(userText(prompt)))}</text>`,
    "</response>",
  ].join("\n");
}

/** As a stream when the caller asked for one (SSE and socket transports). */
function maybeStream(text, params) {
  if (!params?.stream) return text;
  return {
    textStream: (async function* chunks() {
      for (let i = 0; i < text.length; i += 16) yield text.slice(i, i + 16);
    })(),
  };
}

async function textLarge(runtime, params) {
  return maybeStream(messageHandlerXml(promptOf(params)), params);
}

async function textSmall(runtime, params) {
  const prompt = promptOf(params);
  if (prompt.includes("RESPOND | IGNORE | STOP")) {
    // The should-respond check in group channels: always respond.
    return [
      "<response>",
      `<name>${escapeXml(runtime.character?.name ?? "agent")}</name>`,
      "<reasoning>The agentgate test model always answers.</reasoning>",
      "<action>RESPOND</action>",
      "</response>",
    ].join("\n");
  }
  if (prompt.includes("descriptive title")) {
    // POST /api/messaging/channels/:id/generate-title
    return TITLE;
  }
  return maybeStream(messageHandlerXml(prompt), params);
}

async function embedding(runtime, params) {
  const text = typeof params === "string" ? params : (params?.text ?? "");
  const out = [];
  let block = 0;
  while (out.length < EMBEDDING_DIMENSIONS) {
    const digest = createHash("sha256").update(`${block++}:${text}`).digest();
    for (const byte of digest) out.push(byte / 127.5 - 1);
  }
  return out.slice(0, EMBEDDING_DIMENSIONS);
}

async function tokenize(runtime, params) {
  return Array.from(promptOf(params), (c) => c.codePointAt(0));
}

async function detokenize(runtime, params) {
  return String.fromCodePoint(...(params?.tokens ?? []));
}

async function object(runtime, params) {
  const prompt = promptOf(params);
  return { text: replyTo(userText(prompt)), model: "agentgate-echo" };
}

async function transcription(runtime, params) {
  const audio = Buffer.isBuffer(params) ? params : params?.audio;
  const size = audio?.length ?? audio?.size ?? 0;
  return `transcript of ${size} bytes`;
}

/** A mono 8-bit 8 kHz WAV whose samples are the text's UTF-8 bytes. */
async function speech(runtime, params) {
  const text = typeof params === "string" ? params : (params?.text ?? "");
  const data = Buffer.from(text, "utf8");
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16); // PCM header size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24); // sample rate
  header.writeUInt32LE(8000, 28); // byte rate
  header.writeUInt16LE(1, 32); // block align
  header.writeUInt16LE(8, 34); // bits per sample
  header.write("data", 36, "ascii");
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

async function imageDescription(runtime, params) {
  return { title: "An image", description: "An image (agentgate test model)." };
}

/** Puts the message being handled into the prompt for the model above. */
const userMessageProvider = {
  name: "AGENTGATE_USER_MESSAGE",
  description: "The message being answered (for the deterministic test model)",
  position: 1000,
  get: async (runtime, message) => {
    const text = message?.content?.text;
    if (typeof text !== "string" || message.entityId === runtime.agentId) {
      return { text: "", values: {}, data: {} };
    }
    const b64 = Buffer.from(text, "utf8").toString("base64");
    return {
      text: `# The message to answer\n${MARK_OPEN}${b64}${MARK_CLOSE}`,
      values: {},
      data: {},
    };
  },
};

/**
 * Run events as `run_event` logs, as @elizaos/plugin-bootstrap records them
 * in a stock deployment (GET /api/agents/:id/runs reads them). Bootstrap is
 * not installed here: it depends on the `bun` package.
 */
function runEvent(statusOf) {
  return async (payload) => {
    const status = typeof statusOf === "function" ? statusOf(payload) : statusOf;
    const runtime = payload?.runtime;
    if (!runtime?.log || !payload.runId) return;
    await runtime.log({
      entityId: payload.entityId ?? runtime.agentId,
      roomId: payload.roomId ?? runtime.agentId,
      type: "run_event",
      body: {
        runId: payload.runId,
        status,
        messageId: payload.messageId,
        roomId: payload.roomId,
        entityId: payload.entityId,
        startTime: payload.startTime,
        endTime: payload.endTime,
        duration: payload.duration,
        error: payload.error,
        source: payload.source,
      },
    });
  };
}

export const agentgateModelPlugin = {
  name: "agentgate-test-model",
  description: "Deterministic model handlers for agentgate's tests (no network)",
  priority: 1000,
  providers: [userMessageProvider],
  events: {
    RUN_STARTED: [runEvent("started")],
    RUN_ENDED: [runEvent((p) => (p.status === "error" ? "error" : "completed"))],
    RUN_TIMEOUT: [runEvent("timeout")],
  },
  models: {
    TEXT_LARGE: textLarge,
    TEXT_SMALL: textSmall,
    REASONING_LARGE: textLarge,
    REASONING_SMALL: textSmall,
    TEXT_COMPLETION: textLarge,
    TEXT_EMBEDDING: embedding,
    TEXT_TOKENIZER_ENCODE: tokenize,
    TEXT_TOKENIZER_DECODE: detokenize,
    OBJECT_SMALL: object,
    OBJECT_LARGE: object,
    TRANSCRIPTION: transcription,
    TEXT_TO_SPEECH: speech,
    IMAGE_DESCRIPTION: imageDescription,
  },
};
