#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and local development.
#
#   scripts/pg.sh start <dir>   initdb into <dir> (first time), start it on a
#                               free 127.0.0.1 port (its unix socket inside
#                               <dir>), create the roles and the `agentgate`
#                               database, apply migrations/postgres/*.sql as
#                               the owner, and print
#                                 PG_PORT=…
#                                 PG_URL=postgres://agentgate_app:…@127.0.0.1:PORT/agentgate
#                                 PG_OWNER_URL=postgres://agentgate_owner:…@127.0.0.1:PORT/agentgate
#                               (also written to <dir>/pg.env). Starting a
#                               running cluster only re-prints; starting a
#                               stopped one reuses its port, so URLs survive
#                               a stop/start (the outage tests rely on it).
#   scripts/pg.sh stop <dir>    stop it (fast shutdown); the files stay.
#   scripts/pg.sh status <dir>  exit 0 when it is running.
#
# Roles: `agentgate_owner` (LOGIN CREATEROLE, owns the database and every
# table, runs the migrations; not a superuser) and `agentgate_app` (LOGIN,
# owns nothing, NOBYPASSRLS: what the worker connects as, through Hyperdrive).
# The bootstrap superuser is reachable only through the unix socket in <dir>.
# Passwords are random per cluster (or PG_APP_PASSWORD / PG_OWNER_PASSWORD).
#
# No system service is used. When `initdb` is missing, PostgreSQL is installed
# from Debian's packages (apt-get). PostgreSQL refuses to run as root: as
# root, the cluster runs as PG_RUN_USER if set, else the `postgres` user if
# there is one, else a system user `agentgate-pg`; a missing one is created.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '\033[1m[pg]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

find_bindir() {
  local d
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      printf '%s' "$d"
      return 0
    fi
  done
  return 1
}

# Machine-wide setup (installing packages, creating the OS user) is
# serialised: tests start several clusters at once on a fresh machine.
setup_lock() {
  exec 8>"${TMPDIR:-/tmp}/agentgate-pg-setup.lock"
  flock 8
}
setup_unlock() { exec 8>&-; }

ensure_postgres() {
  if BINDIR="$(find_bindir)"; then return 0; fi
  setup_lock
  if BINDIR="$(find_bindir)"; then setup_unlock; return 0; fi
  log "PostgreSQL not found: installing it from Debian's packages"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >&2
  # The package would start a system cluster: keep services from starting.
  if [ -z "$sudo" ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $sudo apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends \
    postgresql postgresql-client >&2
  BINDIR="$(find_bindir)" || die "postgresql installed but initdb not found"
  setup_unlock
}

# The OS user the server runs as, and how to run a command as that user.
RUN_USER=""
as_pg() {
  if [ -n "$RUN_USER" ]; then
    runuser -u "$RUN_USER" -- "$@"
  else
    "$@"
  fi
}

choose_user() {
  if [ "$(id -u)" -ne 0 ]; then RUN_USER=""; return; fi
  local user="${PG_RUN_USER:-}"
  if [ -z "$user" ]; then
    if id -u postgres >/dev/null 2>&1; then user=postgres; else user=agentgate-pg; fi
  fi
  if ! id -u "$user" >/dev/null 2>&1; then
    setup_lock
    if ! id -u "$user" >/dev/null 2>&1; then
      log "creating system user $user (PostgreSQL does not run as root)"
      useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$user"
    fi
    setup_unlock
  fi
  RUN_USER="$user"
}

# stop/status: act as whoever owns the cluster's files.
data_owner() {
  RUN_USER=""
  if [ "$(id -u)" -eq 0 ] && [ -d "$DATA" ]; then
    RUN_USER="$(stat -c %U "$DATA")"
    [ "$RUN_USER" != root ] || RUN_USER=""
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

random_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    if ! port_in_use "$p"; then printf '%s' "$p"; return 0; fi
  done
  die "no free port found"
}

random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

is_running() {
  [ -f "$DATA/postmaster.pid" ] && as_pg "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

# psql as the bootstrap superuser, over the unix socket in <dir>.
psql_super() {
  as_pg "$(psql_bin)" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres -d "${1:-postgres}" "${@:2}"
}

psql_bin() {
  if [ -x "$BINDIR/psql" ]; then printf '%s' "$BINDIR/psql"; else command -v psql; fi
}

write_env() {
  local app_url="postgres://agentgate_app:${APP_PASSWORD}@127.0.0.1:${PORT}/agentgate"
  local owner_url="postgres://agentgate_owner:${OWNER_PASSWORD}@127.0.0.1:${PORT}/agentgate"
  umask 077
  cat > "$DIR/pg.env" <<EOF
PG_PORT=$PORT
PG_URL=$app_url
PG_OWNER_URL=$owner_url
PG_SOCKET_DIR=$SOCK
EOF
}

cmd_start() {
  ensure_postgres
  choose_user
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  DATA="$DIR/data"
  SOCK="$DIR/sock"
  # An existing cluster keeps running as the user that owns it.
  if [ -f "$DATA/PG_VERSION" ]; then data_owner; fi
  mkdir -p "$SOCK"
  [ -z "$RUN_USER" ] || chown "$RUN_USER" "$DIR" "$SOCK"
  chmod 700 "$DIR" "$SOCK"

  if [ -f "$DIR/secrets" ]; then
    # shellcheck disable=SC1091
    source "$DIR/secrets"
  else
    APP_PASSWORD="${PG_APP_PASSWORD:-$(random_secret)}"
    OWNER_PASSWORD="${PG_OWNER_PASSWORD:-$(random_secret)}"
    (umask 077; printf 'APP_PASSWORD=%s\nOWNER_PASSWORD=%s\n' "$APP_PASSWORD" "$OWNER_PASSWORD" > "$DIR/secrets")
  fi

  local fresh=0
  if [ ! -f "$DATA/PG_VERSION" ]; then
    rm -rf "$DATA"
    mkdir -p "$DATA"
    [ -z "$RUN_USER" ] || chown "$RUN_USER" "$DATA"
    chmod 700 "$DATA"
    as_pg "$BINDIR/initdb" -D "$DATA" -U postgres --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null \
      || as_pg "$BINDIR/initdb" -D "$DATA" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >/dev/null
    # Loopback TCP needs a password; the unix socket (in <dir>, mode 700)
    # is the superuser's door.
    cat > "$DATA/pg_hba.conf" <<'EOF'
local all postgres              trust
host  all all      127.0.0.1/32 scram-sha-256
EOF
    fresh=1
  fi

  if [ -f "$DIR/port" ]; then PORT="$(cat "$DIR/port")"; else PORT=""; fi
  if is_running; then
    [ -n "$PORT" ] || die "running cluster without a recorded port"
  else
    local attempt
    for attempt in 1 2 3 4 5; do
      if [ -z "$PORT" ] || { [ "$attempt" -gt 1 ] && [ ! -f "$DIR/port.fixed" ]; }; then
        PORT="$(random_port)"
      fi
      # Throwaway settings: fast, loopback only, no durability needed. (The
      # server must not inherit the locks on fds 8 and 9.)
      if as_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 30 -s \
          -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$SOCK \
              -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
              -c max_connections=200 -c shared_buffers=32MB \
              -c password_encryption=scram-sha-256" \
          start >/dev/null 2>&1 8>&- 9>&-; then
        break
      fi
      if [ -f "$DIR/port.fixed" ] || [ "$attempt" -eq 5 ]; then
        tail -n 20 "$DIR/server.log" >&2 || true
        die "could not start PostgreSQL on port $PORT"
      fi
    done
    printf '%s' "$PORT" > "$DIR/port"
    # Once URLs have been handed out, a restart must keep the port.
    touch "$DIR/port.fixed"
  fi

  if [ "$fresh" = 1 ] || [ ! -f "$DIR/provisioned" ]; then
    psql_super postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agentgate_owner') THEN
    CREATE ROLE agentgate_owner LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agentgate_app') THEN
    CREATE ROLE agentgate_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
  END IF;
END
\$\$;
ALTER ROLE agentgate_owner PASSWORD '${OWNER_PASSWORD}';
ALTER ROLE agentgate_app PASSWORD '${APP_PASSWORD}';
SQL
    if ! psql_super postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'agentgate'" | grep -q 1; then
      psql_super postgres -c "CREATE DATABASE agentgate OWNER agentgate_owner"
    fi
    psql_super agentgate -c "REVOKE ALL ON DATABASE agentgate FROM PUBLIC; REVOKE CREATE ON SCHEMA public FROM PUBLIC; ALTER SCHEMA public OWNER TO agentgate_owner;"
    touch "$DIR/provisioned"
  fi

  # Migrations, as the owner, every start (they are idempotent).
  local f psql
  psql="$(psql_bin)"
  for f in "$ROOT"/migrations/postgres/*.sql; do
    PGOPTIONS="-c client_min_messages=warning" PGPASSWORD="$OWNER_PASSWORD" "$psql" -X -q -v ON_ERROR_STOP=1 \
      -h 127.0.0.1 -p "$PORT" -U agentgate_owner -d agentgate -f "$f" >/dev/null \
      || die "migration $f failed"
  done

  write_env
  cat "$DIR/pg.env"
}

cmd_stop() {
  [ -d "$DIR" ] || return 0
  DIR="$(cd "$DIR" && pwd)"
  DATA="$DIR/data"
  BINDIR="$(find_bindir)" || return 0
  data_owner
  if [ -f "$DATA/postmaster.pid" ]; then
    as_pg "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 30 -s stop >/dev/null 2>&1 || true
  fi
}

cmd_status() {
  DIR="$(cd "$DIR" && pwd)"
  DATA="$DIR/data"
  BINDIR="$(find_bindir)" || exit 1
  data_owner
  is_running
}

[ $# -eq 2 ] || die "usage: scripts/pg.sh start|stop|status <dir>"
DIR="$2"
# One command at a time per cluster: a `stop` (e.g. from a test's watchdog)
# that arrives while a `start` is still running waits for it, then stops.
if [ "$1" != status ]; then
  [ "$1" = start ] && mkdir -p "$DIR"
  if [ -d "$DIR" ]; then
    exec 9>"$DIR/.lock"
    flock 9
  fi
fi
case "$1" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) die "usage: scripts/pg.sh start|stop|status <dir>" ;;
esac
