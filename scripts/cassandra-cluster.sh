# shellcheck shell=bash
# `scripts/cassandra cluster …`: a local multi-node, multi-datacenter Cassandra on loopback addresses.
# Sourced by scripts/cassandra, whose functions (cmd_start, cmd_stop, cql_ping, write_config, jvm_flags,
# ensure_jars) it drives once per node after pointing the per-node variables at that node.
#
#   cluster start --nodes N --dcs dc1:2,dc2:1   start (or keep) N nodes; node I (1..N) on 127.0.0.(I+1)
#   cluster stop [--wipe]                        SIGTERM every node (SIGKILL after the stop timeout)
#   cluster status                               per node: address, DC, pid, CQL; then nodetool status
#   cluster kill I                               SIGKILL node I (a crash, for tests)
#   cluster restart I                            start node I again (after kill or stop) and wait for CQL
#   cluster wipe                                 stop and delete every node's data
#   cluster nodetool I ARGS…                     nodetool against node I (e.g. repair -full KEYSPACE)
#
# Ports per address: storage 7000, CQL 9042, local JMX 7200+I (nodetool). Node 1 is the seed. Tokens are
# spread evenly per DC (one token per node, offset by 100 per DC), so a fresh cluster needs no bootstrap.
# The heap is 768 MiB per node (FLEETWATCH_CLUSTER_HEAP), so three nodes fit beside the single dev node
# and the tests on a 2-core, 24 GiB machine.

CLUSTER_DIR="${FLEETWATCH_CLUSTER_HOME:-$CACHE/cluster}"
CLUSTER_HEAP="${FLEETWATCH_CLUSTER_HEAP:-768m}"
CLUSTER_UP_TIMEOUT="${FLEETWATCH_CLUSTER_UP_TIMEOUT:-180}"

cluster_die() { printf 'cassandra cluster: ERROR: %s\n' "$*" >&2; exit 1; }
cluster_log() { printf 'cassandra cluster: %s\n' "$*" >&2; }

# Reads the topology written by `cluster start` (NODES, DCS).
cluster_load() {
  [[ -f "$CLUSTER_DIR/topology" ]] || cluster_die "no cluster under $CLUSTER_DIR (run: scripts/cassandra cluster start --nodes N --dcs dc1:2,dc2:1)"
  # shellcheck disable=SC1091
  source "$CLUSTER_DIR/topology"
}

# Prints the DC of node $1 (1-based) for the DCS spec "dc1:2,dc2:1", and its index within that DC and DC number.
cluster_dc_of() {
  local want=$1 n=0 d=0 spec name count j
  IFS=',' read -ra spec <<<"$DCS"
  for entry in "${spec[@]}"; do
    name="${entry%%:*}"; count="${entry##*:}"
    for ((j = 0; j < count; j++)); do
      n=$((n + 1))
      if ((n == want)); then printf '%s %s %s %s\n' "$name" "$j" "$count" "$d"; return 0; fi
    done
    d=$((d + 1))
  done
  return 1
}

# Points scripts/cassandra's per-node variables at cluster node $1.
cluster_select() {
  local i=$1 dc j count d token
  read -r dc j count d < <(cluster_dc_of "$i") || cluster_die "node $i is not in the topology ($DCS)"
  token="$(node -e 'const [j,n,d]=process.argv.slice(1).map(BigInt);console.log((-(2n**63n)+j*((2n**64n)/n)+100n*d).toString())' "$j" "$count" "$d")"
  NODE_DIR="$CLUSTER_DIR/node$i"
  HOST="127.0.0.$((i + 1))"
  PORT=9042
  STORAGE_PORT=7000
  JMX_PORT=$((7200 + i))
  CONF="$NODE_DIR/conf"
  DATA="$NODE_DIR/data"
  LOGS="$NODE_DIR/logs"
  PIDFILE="$NODE_DIR/cassandra.pid"
  OUTFILE="$LOGS/console.log"
  HEAP_MIN="$CLUSTER_HEAP"
  HEAP_MAX="$CLUSTER_HEAP"
  CLUSTER_NAME=fwcluster
  SNITCH=GossipingPropertyFileSnitch
  SEEDS="127.0.0.2:7000"
  HINTS=true
  NODE_DC="$dc"
  EXTRA_YAML="
# Cluster node $i of $NODES ($dc).
initial_token: $token
auto_bootstrap: false
max_hint_window: 3h
use_deterministic_table_id: true"
}

# Writes node config (cassandra.yaml, logback.xml, rackdc) for the selected node.
cluster_write_config() {
  write_config
  printf 'dc=%s\nrack=rack1\n' "$NODE_DC" >"$CONF/cassandra-rackdc.properties"
}

# Starts the selected node (or waits for it if already running).
cluster_start_node() {
  cluster_write_config
  # cmd_start reads CACHE for the working directory only; the node's own dirs come from the variables.
  cmd_start >&2
}

# nodetool through the cached jars, against node $1's local JMX.
cluster_nodetool() {
  local i=$1; shift
  run_nodetool $((7200 + i)) "$CLUSTER_DIR/tools" "$@"
}

# Waits until nodetool (asked through a live node) shows every node Up/Normal.
cluster_wait_ring() {
  local t0=$SECONDS i up out
  while ((SECONDS - t0 < CLUSTER_UP_TIMEOUT)); do
    for ((i = 1; i <= NODES; i++)); do
      out="$(cluster_nodetool "$i" status 2>/dev/null)" || continue
      up="$(grep -cE '^UN +127\.0\.0\.' <<<"$out" || true)"
      if ((up == NODES)); then
        printf '%s\n' "$out"
        return 0
      fi
      break
    done
    sleep 2
  done
  cluster_die "not every node is UN after ${CLUSTER_UP_TIMEOUT}s (logs under $CLUSTER_DIR/node*/logs)"
}

cluster_cmd_start() {
  local nodes="" dcs=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --nodes) nodes="$2"; shift 2 ;;
      --dcs) dcs="$2"; shift 2 ;;
      *) cluster_die "unknown option $1" ;;
    esac
  done
  [[ "$nodes" =~ ^[1-9][0-9]?$ ]] || cluster_die "--nodes N (1..99) is required"
  [[ -n "$dcs" ]] || dcs="dc1:$nodes"
  [[ "$dcs" =~ ^[A-Za-z0-9_-]+:[1-9][0-9]*(,[A-Za-z0-9_-]+:[1-9][0-9]*)*$ ]] || cluster_die "--dcs must look like dc1:2,dc2:1"
  local total=0 entry
  IFS=',' read -ra _spec <<<"$dcs"
  for entry in "${_spec[@]}"; do total=$((total + ${entry##*:})); done
  ((total == nodes)) || cluster_die "--dcs gives $total nodes but --nodes is $nodes"
  ((nodes + 1 <= 254)) || cluster_die "too many nodes"
  mkdir -p "$CLUSTER_DIR"
  if [[ -f "$CLUSTER_DIR/topology" ]]; then
    # shellcheck disable=SC1091
    (source "$CLUSTER_DIR/topology"; [[ "$NODES" == "$nodes" && "$DCS" == "$dcs" ]]) || {
      cluster_log "topology changed: stopping and wiping the old cluster"
      cluster_cmd_stop --wipe
      mkdir -p "$CLUSTER_DIR"
    }
  fi
  printf 'NODES=%s\nDCS=%s\n' "$nodes" "$dcs" >"$CLUSTER_DIR/topology"
  NODES=$nodes; DCS=$dcs
  find_java17 >/dev/null || exit 1
  ensure_jars
  local i
  # The seed first, then the others one at a time (two at once was no faster here, and safer).
  for ((i = 1; i <= NODES; i++)); do
    cluster_select "$i"
    cluster_log "node $i: $HOST ($NODE_DC)"
    cluster_start_node
  done
  cluster_wait_ring
  echo "cluster up: $NODES nodes ($DCS) on 127.0.0.2..127.0.0.$((NODES + 1)):9042; logs: $CLUSTER_DIR/node*/logs/system.log"
}

cluster_cmd_stop() {
  [[ -f "$CLUSTER_DIR/topology" ]] || { cluster_log "no cluster"; [[ "${1:-}" == "--wipe" ]] && rm -rf "$CLUSTER_DIR"; return 0; }
  cluster_load
  local i
  for ((i = NODES; i >= 1; i--)); do
    cluster_select "$i"
    cmd_stop >&2 || true
  done
  if [[ "${1:-}" == "--wipe" ]]; then
    rm -rf "$CLUSTER_DIR"
    cluster_log "wiped $CLUSTER_DIR"
  fi
}

cluster_cmd_status() {
  cluster_load
  local i rc=0 pid
  for ((i = 1; i <= NODES; i++)); do
    cluster_select "$i"
    if cql_ping; then
      pid="$(our_pid || echo '?')"
      echo "node $i: $HOST $NODE_DC up (pid $pid)"
    else
      echo "node $i: $HOST $NODE_DC down"
      rc=1
    fi
  done
  for ((i = 1; i <= NODES; i++)); do
    cluster_nodetool "$i" status 2>/dev/null && break
  done
  return "$rc"
}

cluster_cmd_kill() {
  cluster_load
  local i="${1:-}" pid
  [[ "$i" =~ ^[0-9]+$ ]] && ((i >= 1 && i <= NODES)) || cluster_die "kill I: I must be 1..$NODES"
  cluster_select "$i"
  pid="$(our_pid)" || { cluster_log "node $i is not running"; return 0; }
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  rm -f "$PIDFILE"
  echo "node $i ($HOST) killed"
}

cluster_cmd_restart() {
  cluster_load
  local i="${1:-}"
  [[ "$i" =~ ^[0-9]+$ ]] && ((i >= 1 && i <= NODES)) || cluster_die "restart I: I must be 1..$NODES"
  cluster_select "$i"
  if our_pid >/dev/null; then cmd_stop >&2; fi
  cluster_start_node
  echo "node $i ($HOST) up"
}

cluster_cmd_nodetool() {
  cluster_load
  local i="${1:-}"
  [[ "$i" =~ ^[0-9]+$ ]] && ((i >= 1 && i <= NODES)) || cluster_die "nodetool I ARGS: I must be 1..$NODES"
  shift
  cluster_nodetool "$i" "$@"
}

cluster_main() {
  local cmd="${1:-status}"
  [[ $# -gt 0 ]] && shift
  if command -v flock >/dev/null 2>&1 && [[ "$cmd" != status && "$cmd" != nodetool ]]; then
    mkdir -p "$CLUSTER_DIR"
    exec 8>"$CLUSTER_DIR/.lock"
    flock -w 600 8 || cluster_die "could not lock $CLUSTER_DIR/.lock"
  fi
  case "$cmd" in
    start) cluster_cmd_start "$@" ;;
    stop) cluster_cmd_stop "${1:-}" ;;
    wipe) cluster_cmd_stop --wipe ;;
    status) cluster_cmd_status ;;
    kill) cluster_cmd_kill "${1:-}" ;;
    restart) cluster_cmd_restart "${1:-}" ;;
    nodetool) cluster_cmd_nodetool "$@" ;;
    *) cluster_die "usage: scripts/cassandra cluster start --nodes N --dcs dc1:2,dc2:1 | stop [--wipe] | status | kill I | restart I | nodetool I ARGS | wipe" ;;
  esac
}
