#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker+controller) on 127.0.0.1, jars from Maven Central.
#
#   deploy/local/kafka.sh start|stop|status|fetch
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KAFKA_DATA_DIR
# (deploy/local/.run/<port>), KAFKA_HEAP_OPTS (-Xms256m -Xmx512m), KAFKA_JVM_OPTS
# (-XX:+UseSerialGC; the full JIT: under sustained load the broker answers in 2/3 of the time
# it takes with -XX:TieredStopAtLevel=1, docs/benchmarks.md), KAFKA_START_TIMEOUT (90 s),
# KAFKA_LOG_LEVEL (WARN). Jars are cached in deploy/local/.lib/<version>/ (git-ignored).
# KAFKA_SCRAM_USERS_FILE (lines "name password") with KAFKA_SUPER_USER (one of them): clients
# authenticate with SASL SCRAM-SHA-512 and the broker enforces ACLs, as Strimzi's does
# (the ACL test, tests/e2e/test_kafka_acls.py). Unset: plain text, no ACLs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-$((port + 1))}
run_dir=${KAFKA_DATA_DIR:-$here/.run/$port}
heap=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
jvm_opts=${KAFKA_JVM_OPTS:--XX:+UseSerialGC}
timeout=${KAFKA_START_TIMEOUT:-90}
log_level=${KAFKA_LOG_LEVEL:-WARN}
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
lib_dir=$here/.lib/$version
pid_file=$run_dir/kafka.pid
log_file=$run_dir/kafka.log

die() { echo "kafka.sh: $*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {  # prints the pid of the broker this script started, if it is alive
  [[ -f $pid_file ]] || return 1
  local pid
  pid=$(<"$pid_file")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && grep -q 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null \
    && echo "$pid"
}

fetch() {
  if [[ -f $lib_dir/.complete ]]; then return 0; fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed once to fetch Kafka $version from Maven Central"
  echo "kafka.sh: fetching Apache Kafka $version from Maven Central into $lib_dir" >&2
  rm -rf "$lib_dir.tmp"
  mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$lib_dir.tmp" >&2 || die "fetching the Kafka jars failed"
  rm -rf "$lib_dir" && mv "$lib_dir.tmp" "$lib_dir" && touch "$lib_dir/.complete"
}

scram_users=${KAFKA_SCRAM_USERS_FILE:-}
super_user=${KAFKA_SUPER_USER:-}

client_listener_config() {  # the client listener: plain text, or SCRAM with ACLs enforced
  if [[ -z $scram_users ]]; then
    cat <<PROPS
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
PROPS
    return
  fi
  local super_password
  super_password=$(awk -v u="$super_user" '$1 == u { print $2 }' "$scram_users")
  [[ -n $super_password ]] || die "KAFKA_SUPER_USER '$super_user' is not in $scram_users"
  # The controller listener stays on loopback in plain text; its principal is ANONYMOUS.
  cat <<PROPS
listeners=SASL_PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$super_user" password="$super_password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:$super_user;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
PROPS
}

scram_format_args() {  # --add-scram per user: SCRAM credentials exist from the first start
  [[ -n $scram_users ]] || return 0
  local name password
  while read -r name password; do
    [[ -n $name ]] && printf -- '--add-scram\nSCRAM-SHA-512=[name=%s,password=%s]\n' "$name" "$password"
  done <"$scram_users"
}

write_config() {
  mkdir -p "$run_dir/data"
  cat >"$run_dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
$(client_listener_config)
controller.listener.names=CONTROLLER
log.dirs=$run_dir/data
num.partitions=1
auto.create.topics.enable=false
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
background.threads=2
log.cleaner.dedupe.buffer.size=8388608
log.segment.bytes=16777216
log.retention.check.interval.ms=60000
PROPS
  cat >"$run_dir/log4j2.properties" <<PROPS
status = error
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = $log_level
rootLogger.appenderRef.out.ref = out
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
PROPS
}

start() {
  if pid=$(running_pid); then
    echo "kafka.sh: already running (pid $pid) on 127.0.0.1:$port" >&2
    echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port"
    return 0
  fi
  for p in "$port" "$controller_port"; do
    port_open "$p" && die "port $p on 127.0.0.1 is already in use; set KAFKA_PORT (and KAFKA_CONTROLLER_PORT) to free ports"
  done
  command -v java >/dev/null || die "Java 17+ is needed to run Kafka"
  fetch
  write_config
  local cp="$lib_dir/*" started
  started=$(date +%s.%N)
  if [[ ! -f $run_dir/data/meta.properties ]]; then
    local scram=()
    mapfile -t scram < <(scram_format_args)
    java -cp "$cp" -Dlog4j2.configurationFile="$run_dir/log4j2.properties" kafka.tools.StorageTool \
      format -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null)" \
      -c "$run_dir/server.properties" --ignore-formatted "${scram[@]}" >"$run_dir/format.log" 2>&1 \
      || { cat "$run_dir/format.log" >&2; die "formatting the storage in $run_dir/data failed"; }
  fi
  # shellcheck disable=SC2086  # heap and JVM options are word lists on purpose
  nohup java $heap $jvm_opts -Xshare:auto -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$run_dir/log4j2.properties" -cp "$cp" \
    kafka.Kafka "$run_dir/server.properties" >"$log_file" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pid_file"
  local deadline=$((SECONDS + timeout))
  until grep -q 'Kafka Server started' "$log_file" 2>/dev/null && port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      tail -n 30 "$log_file" >&2
      die "the broker exited during startup (log: $log_file)"
    fi
    if ((SECONDS >= deadline)); then
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$pid_file"
      tail -n 30 "$log_file" >&2
      die "the broker did not start within ${timeout}s (log: $log_file)"
    fi
    sleep 0.2
  done
  local elapsed rss
  elapsed=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  rss=$(awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$pid/status")
  echo "kafka.sh: Kafka $version started in ${elapsed}s (pid $pid, RSS ${rss} MiB, data $run_dir/data)" >&2
  echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pid_file"
    echo "kafka.sh: not running on 127.0.0.1:$port (nothing this script started)" >&2
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka.sh: broker $pid ignored SIGTERM for 30 s; killing it" >&2
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
  echo "kafka.sh: stopped (pid $pid)" >&2
}

status() {
  local pid
  if pid=$(running_pid); then
    echo "kafka.sh: running (pid $pid) on 127.0.0.1:$port"
    echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port"
  else
    echo "kafka.sh: not running on 127.0.0.1:$port"
    return 3
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  fetch) fetch ;;
  -h | --help | help)
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    ;;
  *)
    echo "usage: $0 start|stop|status|fetch (see --help)" >&2
    exit 2
    ;;
esac
