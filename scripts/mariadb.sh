#!/usr/bin/env bash
# Start or stop a throwaway MariaDB for tests and benchmarks: its own data folder, loopback only, no systemd.
#   scripts/mariadb.sh start   install the data folder if needed, start the server, create the user
#   scripts/mariadb.sh stop    stop it (the data folder stays until `clean`)
#   scripts/mariadb.sh clean   stop it and delete the data folder
#   scripts/mariadb.sh url     print the DATABASE_URL to use
# Needs Debian's mariadb-server package (the server binaries only; its own service is not used).
set -euo pipefail

DIR="${MARIADB_DIR:-${TMPDIR:-/tmp}/syncserver-mariadb}"
PORT="${MARIADB_PORT:-3307}"
# Large enough to hold the full benchmark's data (~2 GB of records and queue); InnoDB only takes the
# memory as pages are used, so a test run stays small.
BUFFER_POOL="${MARIADB_BUFFER_POOL_SIZE:-3G}"
SOCKET="$DIR/mysqld.sock"
# shellcheck source=scripts/database-user.sh
. "$(dirname "$0")/database-user.sh"

url() { echo "mysql://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DATABASE"; }

running() { [ -S "$SOCKET" ] && mariadb-admin --socket="$SOCKET" -uroot ping >/dev/null 2>&1; }

start() {
  command -v mariadbd >/dev/null || command -v mysqld >/dev/null || {
    echo "MariaDB is not installed: run 'apt-get install mariadb-server' (Debian) first." >&2; exit 1; }
  if running; then echo "MariaDB already running on 127.0.0.1:$PORT"; return; fi
  mkdir -p "$DIR"
  if [ ! -d "$DIR/data/mysql" ]; then
    echo "Creating a MariaDB data folder in $DIR/data"
    mariadb-install-db --no-defaults --datadir="$DIR/data" --user="$(id -un)" \
      --auth-root-authentication-method=socket >"$DIR/install.log" 2>&1 || {
      cat "$DIR/install.log" >&2; exit 1; }
  fi
  local server; server=$(command -v mariadbd || command -v mysqld)
  # innodb-flush-log-at-trx-commit=2 is for this throwaway test server only: a commit may be lost in a
  # power cut. A primary needs =1 (the default), so an acknowledged push survives one
  # (docs/operations.md, "Production checklist").
  "$server" --no-defaults --datadir="$DIR/data" --socket="$SOCKET" --port="$PORT" \
    --bind-address=127.0.0.1 --pid-file="$DIR/mysqld.pid" --log-error="$DIR/error.log" \
    --user="$(id -un)" --skip-log-bin --innodb-buffer-pool-size="$BUFFER_POOL" --innodb-log-file-size=256M \
    --innodb-flush-log-at-trx-commit=2 --max-connections=300 --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_unicode_ci --max-allowed-packet=64M >/dev/null 2>&1 &
  for _ in $(seq 1 60); do
    running && break
    sleep 0.5
  done
  running || { echo "MariaDB did not start; see $DIR/error.log" >&2; tail -20 "$DIR/error.log" >&2; exit 1; }
  create_database_and_user "$SOCKET"
  echo "MariaDB running on 127.0.0.1:$PORT; DATABASE_URL=$(url)"
}

stop() {
  if running; then
    mariadb-admin --socket="$SOCKET" -uroot shutdown
    echo "MariaDB stopped"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  clean) stop; rm -rf "$DIR" ;;
  url) url ;;
  *) echo "usage: $0 start|stop|clean|url" >&2; exit 2 ;;
esac
