# Sourced by the benchmarks that drive redis-server (bench/soak/run, bench/server/run): the server
# on 127.0.0.1:$REDIS_PORT without persistence, started under a wrapper (or none) and stopped.
# The caller sets REDIS_PORT and defines die().

redis_cli() { timeout 30 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# redis_start NAME OUTDIR [WRAPPER...]: redis-server under WRAPPER (tierscope run/record
# arguments ending in --, heaptrack ...; none: plain) in the background, its output in
# OUTDIR/NAME.stdout and .stderr; returns once it answers (at most 20 s). Sets $redis_launcher
# (the wrapper's pid) and $redis_pid (the server's).
redis_start() {
  local name=$1 outdir=$2
  shift 2
  if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then
    die "port $REDIS_PORT on 127.0.0.1 is in use (set REDIS_PORT)"
  fi
  redis_dir=$(mktemp -d /tmp/ts-redis-XXXXXX)
  "$@" /usr/bin/redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --dir "$redis_dir" --daemonize no --protected-mode yes --io-threads 1 --loglevel warning \
    >"$outdir/$name.stdout" 2>"$outdir/$name.stderr" </dev/null &
  redis_launcher=$!
  for _ in $(seq 200); do
    if redis_cli ping 2>/dev/null | grep -q PONG; then
      redis_pid=$(redis_cli info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p')
      return 0
    fi
    kill -0 "$redis_launcher" 2>/dev/null || break
    sleep 0.1
  done
  die "redis-server ($name) did not answer; see $outdir/$name.stderr"
}

# redis_stop: SHUTDOWN NOSAVE, then the wrapper's exit status in $redis_status.
redis_stop() {
  redis_cli shutdown nosave >/dev/null 2>&1 || true
  redis_status=0
  wait "$redis_launcher" || redis_status=$?
  rm -rf "$redis_dir"
}
