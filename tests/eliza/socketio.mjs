// Drives the unmodified socket.io-client 4 for the Rust e2e tests: one JSON
// command per stdin line, one JSON event per stdout line.
//
// Commands: {op:"connect", id, url, auth, transports?, headers?}
//           {op:"emit", id, event, data}
//           {op:"close", id}
// Events:   {id, event, data, transport, t} for every event the socket
//           receives, plus connect, connect_error, disconnect and upgrade.
import { io } from "socket.io-client";
import readline from "node:readline";

const sockets = new Map();
const out = (id, event, data, socket) =>
  process.stdout.write(
    JSON.stringify({
      id,
      event,
      data: data === undefined ? null : data,
      transport: socket?.io?.engine?.transport?.name ?? null,
      t: Date.now(),
    }) + "\n",
  );

function connect(cmd) {
  const socket = io(cmd.url, {
    auth: cmd.auth ?? {},
    transports: cmd.transports ?? ["polling", "websocket"],
    extraHeaders: cmd.headers ?? {},
    reconnection: false,
    forceNew: true,
    timeout: 10000,
  });
  sockets.set(cmd.id, socket);
  // The engine probes the upgrade as soon as it opens, maybe before the
  // namespace connects.
  socket.io.on("open", () => {
    socket.io.engine.on("upgrade", (t) => out(cmd.id, "upgrade", t.name, socket));
    socket.io.engine.on("upgradeError", (e) => out(cmd.id, "upgradeError", String(e), socket));
    socket.io.engine.on("ping", () => out(cmd.id, "ping", null, socket));
  });
  socket.on("connect", () => out(cmd.id, "connect", { socketId: socket.id }, socket));
  socket.on("connect_error", (err) =>
    out(cmd.id, "connect_error", { message: err.message, data: err.data ?? null }, socket),
  );
  socket.on("disconnect", (reason) => out(cmd.id, "disconnect", reason, socket));
  socket.onAny((event, data) => out(cmd.id, event, data, socket));
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  const socket = sockets.get(cmd.id);
  switch (cmd.op) {
    case "connect":
      connect(cmd);
      break;
    case "emit":
      socket.emit(cmd.event, cmd.data);
      break;
    case "close":
      socket?.close();
      break;
  }
});
rl.on("close", () => {
  for (const s of sockets.values()) s.close();
  process.exit(0);
});
out(null, "ready", null, null);
