#!/usr/bin/env bash
# A throwaway 3-node MariaDB Galera cluster on loopback for tests and benchmarks (no systemd).
#   scripts/galera.sh start           start the cluster: node 1 bootstraps it, nodes 2 and 3 join by SST
#   scripts/galera.sh stop            stop every node (3, 2, then 1, so node 1 can bootstrap next time)
#   scripts/galera.sh clean           stop and delete the data folders
#   scripts/galera.sh kill NODE       kill -9 one node (a crashed machine)
#   scripts/galera.sh restart NODE    start one node again: it rejoins the running cluster (IST or SST)
#   scripts/galera.sh status          each node's wsrep state, and the cluster size
#   scripts/galera.sh url N           print the DATABASE_URL of node N
#   scripts/galera.sh urls            the three URLs, comma-separated (GALERA_URLS for the tests)
# Needs Debian's mariadb-server, galera-4, rsync (the SST method) and iproute2 (`ss`, used by the SST
# script). Each node has its own folder under $GALERA_DIR and its own ports:
#   SQL $GALERA_PORT+N (3340+N), group communication 4570+N, IST 4580+N, SST 4590+N.
set -euo pipefail

DIR="${GALERA_DIR:-${TMPDIR:-/tmp}/syncserver-galera}"
SQL_BASE="${GALERA_PORT:-3340}"
GCOMM_BASE="${GALERA_GCOMM_PORT:-4570}"
IST_BASE="${GALERA_IST_PORT:-4580}"
SST_BASE="${GALERA_SST_PORT:-4590}"
# Three nodes share the machine with everything else: small pools and a small write-set cache.
BUFFER_POOL="${GALERA_BUFFER_POOL_SIZE:-256M}"
GCACHE="${GALERA_GCACHE_SIZE:-256M}"
PROVIDER="${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}"
NODES=(1 2 3)
# As root, the nodes run as Debian's `mysql` user: the rsync daemon that receives an SST would
# otherwise drop to `nobody` and could not write the data folder.
RUN_AS=$(id -un)
if [ "$(id -u)" -eq 0 ] && id mysql >/dev/null 2>&1; then RUN_AS=mysql; fi
# shellcheck source=scripts/database-user.sh
. "$(dirname "$0")/database-user.sh"

sql_port() { echo $((SQL_BASE + $1)); }
node_dir() { echo "$DIR/node$1"; }
socket() { echo "$(node_dir "$1")/mysqld.sock"; }
url() { echo "mysql://$USER_NAME:$PASSWORD@127.0.0.1:$(sql_port "$1")/$DATABASE"; }
urls() { local n out=(); for n in "${NODES[@]}"; do out+=("$(url "$n")"); done; (IFS=,; echo "${out[*]}"); }

root_sql() { mariadb --socket="$(socket "$1")" -uroot -N -B "${@:2}"; }
running() { [ -S "$(socket "$1")" ] && mariadb-admin --socket="$(socket "$1")" -uroot ping >/dev/null 2>&1; }
any_running() { local n; for n in "${NODES[@]}"; do running "$n" && return 0; done; return 1; }
pid_of() { cat "$(node_dir "$1")/mysqld.pid" 2>/dev/null || true; }
wsrep() { root_sql "$1" -e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2; }

check_installed() {
  command -v mariadbd >/dev/null || { echo "MariaDB is not installed: apt-get install mariadb-server" >&2; exit 1; }
  [ -f "$PROVIDER" ] || { echo "No Galera provider at $PROVIDER: apt-get install galera-4" >&2; exit 1; }
  command -v rsync >/dev/null || { echo "rsync is needed for SST: apt-get install rsync" >&2; exit 1; }
}

write_config() {
  local n=$1 dir cluster
  dir=$(node_dir "$n")
  cluster="gcomm://$(for m in "${NODES[@]}"; do printf '127.0.0.1:%s,' $((GCOMM_BASE + m)); done)"
  mkdir -p "$dir"
  # The SST scripts read this file too (datadir, socket), so it is a real option file, not flags.
  cat >"$dir/my.cnf" <<CNF
[mysqld]
datadir=$dir/data
socket=$dir/mysqld.sock
port=$(sql_port "$n")
bind-address=127.0.0.1
pid-file=$dir/mysqld.pid
log-error=$dir/error.log
user=$RUN_AS
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
max-allowed-packet=64M
max-connections=300
default-storage-engine=InnoDB
innodb-buffer-pool-size=$BUFFER_POOL
innodb-log-file-size=128M
innodb-flush-log-at-trx-commit=2
# Galera requirements: row-based write sets, and interleaved auto-increment locking (no table lock).
binlog-format=ROW
innodb-autoinc-lock-mode=2
wsrep-on=ON
wsrep-provider=$PROVIDER
wsrep-cluster-name=syncserver
wsrep-cluster-address=${cluster%,}
wsrep-node-name=node$n
wsrep-node-address=127.0.0.1:$((GCOMM_BASE + n))
wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$((GCOMM_BASE + n));ist.recv_addr=127.0.0.1:$((IST_BASE + n));gcache.size=$GCACHE"
wsrep-sst-method=rsync
wsrep-sst-receive-address=127.0.0.1:$((SST_BASE + n))
wsrep-slave-threads=2
# Reads, UPDATEs and DELETEs first wait until this node has applied everything the cluster committed
# before them: a satellite that pushes through one node and pulls or acknowledges through another
# must see its own push (no echo) and delete the entries it was sent (docs/scaling.md).
wsrep-sync-wait=3
CNF
}

start_node() {
  local n=$1 bootstrap=${2:-} dir
  dir=$(node_dir "$n")
  if running "$n"; then echo "node $n already running on 127.0.0.1:$(sql_port "$n")"; return; fi
  write_config "$n"
  if [ ! -d "$dir/data/mysql" ]; then
    if [ -n "$bootstrap" ]; then
      mariadb-install-db --defaults-file="$dir/my.cnf" --auth-root-authentication-method=socket \
        --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
    else
      mkdir -p "$dir/data"  # a joiner receives everything by SST
    fi
  fi
  [ "$RUN_AS" = "$(id -un)" ] || chown -R "$RUN_AS" "$dir"
  if [ -n "$bootstrap" ] && [ -f "$dir/data/grastate.dat" ]; then
    # A throwaway cluster: node 1 may always found a new one (the others were stopped after it, or it
    # was killed; either way their data is rejoined by IST/SST).
    sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$dir/data/grastate.dat"
  fi
  mariadbd --defaults-file="$dir/my.cnf" ${bootstrap:+--wsrep-new-cluster} >>"$dir/stdout.log" 2>&1 &
  # A joiner may first receive a full copy; wait for it to be synced, not just up.
  for _ in $(seq 1 240); do
    if running "$n" && [ "$(wsrep "$n" wsrep_local_state_comment)" = "Synced" ]; then break; fi
    sleep 0.5
  done
  if ! running "$n" || [ "$(wsrep "$n" wsrep_local_state_comment)" != "Synced" ]; then
    echo "Galera node $n did not start or sync; see $dir/error.log" >&2
    tail -30 "$dir/error.log" >&2
    exit 1
  fi
  echo "node $n synced on 127.0.0.1:$(sql_port "$n") (cluster size $(wsrep "$n" wsrep_cluster_size))"
}

start() {
  check_installed
  if ! any_running; then
    start_node 1 bootstrap
    create_database_and_user "$(socket 1)"
  fi
  local n
  for n in "${NODES[@]}"; do start_node "$n"; done
  echo "Galera cluster running; GALERA_URLS=$(urls)"
}

stop_node() {
  local n=$1
  if running "$n"; then
    mariadb-admin --socket="$(socket "$n")" -uroot shutdown
    echo "node $n stopped"
  fi
}

stop() { stop_node 3; stop_node 2; stop_node 1; }

kill_node() {
  local n=$1 pid
  pid=$(pid_of "$n")
  [ -n "$pid" ] || { echo "node $n is not running" >&2; return 0; }
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$(socket "$n")"
  echo "node $n killed"
}

status() {
  local n
  for n in "${NODES[@]}"; do
    if running "$n"; then
      echo "node $n: $(wsrep "$n" wsrep_local_state_comment), cluster size $(wsrep "$n" wsrep_cluster_size)," \
        "$(wsrep "$n" wsrep_cluster_status) ($(url "$n"))"
    else
      echo "node $n: down"
    fi
  done
}

node_arg() {
  case "${1:-}" in 1 | 2 | 3) echo "$1" ;; *) echo "usage: $0 ${2} 1|2|3" >&2; exit 2 ;; esac
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  clean) stop; rm -rf "$DIR" ;;
  kill) kill_node "$(node_arg "${2:-}" kill)" ;;
  restart)
    check_installed
    n=$(node_arg "${2:-}" restart)
    if any_running; then start_node "$n"; else start_node "$n" bootstrap; fi
    ;;
  status) status ;;
  url) url "$(node_arg "${2:-}" url)" ;;
  urls) urls ;;
  *) echo "usage: $0 start|stop|clean|kill N|restart N|status|url N|urls" >&2; exit 2 ;;
esac
