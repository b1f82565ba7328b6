#!/usr/bin/env bash
# Memory per role, measured the way docs/memory.md states its figures: the packaged app (target/quarkus-app) run
# as one process per role against one infrastructure process (embedded Kafka broker and S3 server), warmed with
# requests through the measured gateway, then read from /proc and from the JVM's Native Memory Tracking.
#
#   ./mvnw -B -ntp -q package -DskipTests
#   deploy/memory/measure.sh                       # the recommended flags (deploy/jvm.options), 1 round
#   ROUNDS=3 deploy/memory/measure.sh              # 3 rounds, fresh processes each
#   JVM_FLAGS="" deploy/memory/measure.sh          # the JVM's defaults (no flags), to compare
#   NMT=1 deploy/memory/measure.sh                 # also the JVM's Native Memory Tracking summary per role
#   ALL=1 deploy/memory/measure.sh                 # the zero-setup default: all roles, embedded broker and S3
#   REQUESTS=300 deploy/memory/measure.sh          # more warm-up traffic (the gateway keeps every job's status)
#   REQUESTS=2 BODY='{"prompt":"a red square","seed":SEED,"width":1024,"height":1024,"steps":4,"num_images":8}' \
#     deploy/memory/measure.sh                     # the largest request the default limits allow: peak_mb
#
# Prints one line per role and round: VmRSS after the warm-up, its peak (VmHWM), VmRSS after a full GC, the
# anonymous and file-backed parts of RSS (before the GC), threads, heap used and committed after the GC, and (NMT=1)
# the JVM's committed memory by NMT category (NMT itself adds ~6 MB to RSS: take RSS figures from runs without it).
# JVM_OPTIONS_FILE=FILE measures another argfile in place of deploy/jvm.options (per-role heap bounds still apply);
# JVM_EXTRA adds flags (e.g. -XX:ActiveProcessorCount=64 to size the JVM's pools as on a 64-CPU node); other SD_*
# variables pass through to every role (e.g. SD_ONNX_INTRA_OP_THREADS).
# Needs bash, curl, jcmd (a JDK), Linux /proc.
# Ports: the broker and S3 server take free ports; the roles' HTTP servers use PORT_BASE.. (default 18081..18084).
set -euo pipefail

cd "$(dirname "$0")/../.."
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
[[ -f $JAR ]] || { echo "no $JAR: run ./mvnw -B -ntp -q package -DskipTests first" >&2; exit 1; }
ROUNDS=${ROUNDS:-1}
REQUESTS=${REQUESTS:-12}
# The warm-up request; SEED becomes 1..REQUESTS.
BODY=${BODY:-'{"prompt":"a red square on blue","seed":SEED,"width":64,"height":64,"steps":12}'}
ROLES="text-encoder unet vae gateway"
# ALL=1: the zero-setup default instead, one process with every role and the embedded broker (port 9092, fixed)
# and S3 server (port 19000) inside, with the images' default JAVA_TOOL_OPTIONS (deploy/Dockerfile).
ALL=${ALL:-0}
[[ $ALL == 1 ]] && ROLES=all
NMT=${NMT:-0}
# Default: the flags the images use (deploy/jvm.options) and each role's heap bound from JAVA_TOOL_OPTIONS in
# deploy/docker-compose.yml. JVM_FLAGS replaces both (JVM_FLAGS="" runs on the JVM's defaults).
if [[ -z ${JVM_FLAGS+set} ]]; then
  JVM_FLAGS="@${JVM_OPTIONS_FILE:-deploy/jvm.options}"
  ROLE_FLAGS=1
fi
role_flags() { # the JAVA_TOOL_OPTIONS of the compose service that runs role $1 (the image's default for "all")
  if [[ $1 == all ]]; then
    sed -nE 's/^ENV JAVA_TOOL_OPTIONS="([^"]*)".*/\1/p' deploy/Dockerfile
    return
  fi
  awk -v role="$1" '/^  [a-z-]+:$/ {service = $1} service == role ":" && /JAVA_TOOL_OPTIONS:/ {
      sub(/.*JAVA_TOOL_OPTIONS: */, ""); gsub(/"/, ""); print}' deploy/docker-compose.yml
}
# The glibc setting the images use; MALLOC_ARENA_MAX= (empty) leaves glibc's default.
MALLOC_ARENA_MAX_VALUE=${MALLOC_ARENA_MAX-2}
WORK=${WORK:-$(mktemp -d /tmp/latent-memory.XXXXXX)}
mkdir -p "$WORK"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

await_started() { # name pid log
  for _ in $(seq 1 1800); do
    grep -qE 'started in [0-9.]+s' "$3" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "$1 exited:" >&2; tail -40 "$3" >&2; exit 1; }
    sleep 0.1
  done
  echo "$1 did not start" >&2; tail -40 "$3" >&2; exit 1
}

# ---- Infrastructure: the embedded broker and S3 server on free ports, in a JVM that is not measured -------------
if [[ $ALL != 1 ]]; then
CP='target/quarkus-app/app/*:target/quarkus-app/lib/main/*:target/quarkus-app/lib/boot/*'
java -XX:+UseSerialGC -Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp "$CP" \
  deploy/memory/Infrastructure.java "$WORK/infra" >"$WORK/infra.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 600); do
  grep -q '^bootstrap=' "$WORK/infra.log" && break
  kill -0 "$!" 2>/dev/null || { tail -40 "$WORK/infra.log" >&2; exit 1; }
  sleep 0.1
done
BOOTSTRAP=$(sed -nE 's/^bootstrap=([^ ]+) s3=.*/\1/p' "$WORK/infra.log")
S3=$(sed -nE 's/^bootstrap=[^ ]+ s3=(.*)/\1/p' "$WORK/infra.log")
[[ -n $BOOTSTRAP && -n $S3 ]] || { echo "infrastructure did not start" >&2; tail -40 "$WORK/infra.log" >&2; exit 1; }
fi

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
kb_mb() { awk -v kb="$1" 'BEGIN {printf "%.1f", kb / 1024}'; }
field_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/smaps_rollup"; }

echo "# flags: ${JVM_FLAGS:-<JVM defaults>}${ROLE_FLAGS:+ + JAVA_TOOL_OPTIONS per role from deploy/docker-compose.yml}  MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX_VALUE:-<glibc default>}" \
  " requests: $REQUESTS  machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
printf '%-13s %5s %7s %7s %7s %7s %7s %7s %9s %9s\n' role round rss_mb peak_mb rss_gc anon_mb file_mb threads heap_used heap_comm
for round in $(seq 1 "$ROUNDS"); do
  declare -A PID_OF=()
  port=${PORT_BASE:-18081}
  for role in $ROLES; do
    log=$WORK/$role-$round.log
    env_args=(SD_ROLES="$role" SD_MODEL_BUILTIN_DIR="$WORK/model-$role" SD_WORKER_ID="$role-$round"
      QUARKUS_HTTP_PORT=$port)
    if [[ $role == all ]]; then
      env_args+=(SD_EMBEDDED_MODE=always SD_EMBEDDED_DATA_DIR="$WORK/data-$round" SD_EMBEDDED_S3_PORT=19000)
    else
      env_args+=(SD_EMBEDDED_MODE=never KAFKA_BOOTSTRAP_SERVERS="$BOOTSTRAP" SD_S3_ENDPOINT="$S3")
    fi
    [[ -n $MALLOC_ARENA_MAX_VALUE ]] && env_args+=(MALLOC_ARENA_MAX="$MALLOC_ARENA_MAX_VALUE")
    nmt_flag=()
    [[ $NMT == 1 ]] && nmt_flag=(-XX:NativeMemoryTracking=summary)
    # shellcheck disable=SC2086
    [[ ${ROLE_FLAGS:-0} == 1 ]] && env_args+=(JAVA_TOOL_OPTIONS="$(role_flags "$role")")
    env "${env_args[@]}" java $JVM_FLAGS ${JVM_EXTRA:-} "${nmt_flag[@]}" -jar "$JAR" >"$log" 2>&1 &
    PID_OF[$role]=$!
    PIDS+=("$!")
    [[ $role == gateway || $role == all ]] && GATEWAY_PORT=$port
    port=$((port + 1))
  done
  for role in $ROLES; do await_started "$role" "${PID_OF[$role]}" "$WORK/$role-$round.log"; done

  # ---- Warm-up: requests through the measured gateway, every one awaited until completed ----------------------
  submit_port=$GATEWAY_PORT
  ids=()
  for i in $(seq 1 "$REQUESTS"); do
    body=${BODY//SEED/$i}
    id=$(curl -fsS -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$submit_port/v1/generations" \
      | sed -E 's/.*"id":"([^"]+)".*/\1/')
    ids+=("$id")
  done
  for id in "${ids[@]}"; do
    for _ in $(seq 1 600); do
      status=$(curl -fsS "http://127.0.0.1:$submit_port/v1/generations/$id" | sed -E 's/.*"status":"([^"]+)".*/\1/')
      [[ $status == completed || $status == failed || $status == cancelled ]] && break
      sleep 0.2
    done
    [[ $status == completed ]] || { echo "request $id ended $status" >&2; exit 1; }
  done
  # Idle a while, as a worker does between bursts: periodic native-heap trimming and GCs have had their turn.
  sleep "${SETTLE:-15}"

  for role in $ROLES; do
    pid=${PID_OF[$role]}
    # RSS as the traffic left it; then a full GC for the live heap and the RSS after it.
    rss=$(kb_mb "$(rss_kb "$pid")")
    peak=$(kb_mb "$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")")
    anon=$(kb_mb "$(field_kb "$pid" Anonymous)")
    file=$(kb_mb "$(($(field_kb "$pid" Rss) - $(field_kb "$pid" Anonymous)))")
    threads=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
    jcmd "$pid" GC.run >/dev/null
    sleep 0.5
    # Heap lines (G1: "garbage-first heap total ..K, used ..K"; Serial: one per generation), not Metaspace's.
    read -r heap_used heap_committed < <(jcmd "$pid" GC.heap_info | awk '!/Metaspace|class space/ &&
        match($0, /total [0-9]+K, used [0-9]+K/) {split(substr($0, RSTART, RLENGTH), f, /[ K,]+/); t += f[2]; u += f[4]}
        END {printf "%.1f %.1f\n", u / 1024, t / 1024}')
    printf '%-13s %5s %7s %7s %7s %7s %7s %7s %9s %9s\n' "$role" "$round" "$rss" "$peak" "$(kb_mb "$(rss_kb "$pid")")" \
      "$anon" "$file" "$threads" "$heap_used" "$heap_committed"
    if [[ $NMT == 1 ]]; then
      # Committed MB per NMT category (>= 0.5 MB), and anonymous RSS that NMT does not account for: native
      # libraries' own allocations (ONNX Runtime, Netty, zstd...), glibc arena slack, less committed-not-touched.
      jcmd "$pid" VM.native_memory summary | awk -v anon_kb="$(field_kb "$pid" Anonymous)" '
        /^Total:/ {match($0, /committed=[0-9]+KB/); total = substr($0, RSTART + 10, RLENGTH - 12)}
        /^-/ {name = $2; for (i = 3; i <= NF && $i !~ /^\(/; i++) name = name "_" $i;
              match($0, /committed=[0-9]+KB/); kb = substr($0, RSTART + 10, RLENGTH - 12);
              if (name == "Shared_class_space") shared = kb;
              if (kb + 0 >= 512) line = line sprintf(" %s=%.1f", name, kb / 1024)}
        END {printf "    NMT committed MB: total=%.1f%s\n    anonymous RSS beyond NMT (minus CDS): %.1f MB\n",
             total / 1024, line, (anon_kb - (total - shared)) / 1024}'
    fi
  done
  for role in $ROLES; do kill "${PID_OF[$role]}"; done
  for role in $ROLES; do wait "${PID_OF[$role]}" 2>/dev/null || true; done
  unset PID_OF
done
echo "# logs in $WORK"
