#!/usr/bin/env bash
# The placement benchmark's workloads: real programs, each with two inputs (A and B) that differ
# in seed and size, so a plan learned on A can be replayed against B (held out).
#
#   bench/placement/workloads.sh list                      the workload names, one a line
#   bench/placement/workloads.sh describe NAME A|B          the command that input runs
#   bench/placement/workloads.sh record NAME A|B DIR        record it into DIR/NAME/A.trace
#   bench/placement/workloads.sh plain NAME A|B DIR         the same program without the recorder
#
# record writes DIR/NAME/INPUT.{trace,stdout,stderr,meta.json}; plain writes
# DIR/NAME/INPUT.plain.{stdout,stderr,meta.json}. meta.json holds the command, its wall time and
# exit status. Every run is bounded by `timeout` (RECORD_TIMEOUT seconds, default 180).
# redis: the server runs on 127.0.0.1:REDIS_PORT with no persistence; its client side (DEBUG
# POPULATE, two bounded redis-benchmark runs with their own timeouts, SHUTDOWN NOSAVE) is not
# recorded and writes DIR/redis/INPUT[.plain].client.
#
# Environment:
#   TIERSCOPE        the tierscope binary (default <repo>/build/release/bin/tierscope)
#   EXAMPLES         the examples' folder (default <repo>/build/release/examples)
#   SAMPLE_PERIOD    timer sampling period (default 1ms); the period is fixed (--sample-budget 0)
#                    so that sample counts follow the program's CPU time, not the drain's load
#   RECORD_DEPTH     --depth for the recorder (default: the recorder's own, 32)
#   RECORD_TIMEOUT   seconds before a run is stopped (default 180)
#   REDIS_PORT       loopback port of the recorded redis-server (default 16379; must be free)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
TIERSCOPE=${TIERSCOPE:-$repo/build/release/bin/tierscope}
EXAMPLES=${EXAMPLES:-$repo/build/release/examples}
SAMPLE_PERIOD=${SAMPLE_PERIOD:-1ms}
RECORD_TIMEOUT=${RECORD_TIMEOUT:-180}
REDIS_PORT=${REDIS_PORT:-16379}
PY=/usr/bin/python3
WORKLOADS=(ingest kvcache stress python3 python3-pymalloc perl redis sqlite3)

die() { echo "workloads.sh: $*" >&2; exit 2; }

record_flags() {
  local out=$1
  printf '%s\n' record -q --sampler timer --sample-period "$SAMPLE_PERIOD" --sample-budget 0 -o "$out"
  if [ -n "${RECORD_DEPTH:-}" ]; then printf '%s\n' --depth "$RECORD_DEPTH"; fi
}

# ---- inputs: the programs' scripts, written into DIR/inputs (kept next to the traces) ----

write_python_script() {
  cat >"$1" <<'EOF'
# placement benchmark, python3 workload: JSON, dicts, sorting, strings. argv: SEED N
import collections, hashlib, json, random, sys

seed, n = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))
         for _ in range(4096)]
cities = words[:64]

# A big, mostly cold table of records, serialized to JSON and parsed back.
records = [{"id": i, "name": rng.choice(words) + " " + rng.choice(words),
            "city": rng.choice(cities), "age": rng.randint(18, 90),
            "score": round(rng.random() * 1000, 3),
            "tags": rng.sample(words, rng.randint(0, 6))} for i in range(n)]
text = json.dumps(records)
records = json.loads(text)
del text

# A hot index: name -> ids, probed over and over.
by_name = collections.defaultdict(list)
for r in records:
    by_name[r["name"]].append(r["id"])
names = list(by_name)
hits = 0
for _ in range(4 * n):
    hits += len(by_name.get(rng.choice(names), ()))

# Group-by and sorts.
per_city = collections.defaultdict(lambda: [0, 0.0])
for r in records:
    acc = per_city[r["city"]]
    acc[0] += 1
    acc[1] += r["score"]
top = sorted(records, key=lambda r: (-r["score"], r["id"]))[:100]
by_age = sorted(records, key=lambda r: (r["age"], r["name"], r["id"]))

# Strings: build, split, count.
counts = collections.Counter()
for r in by_age[: n // 2]:
    line = " ".join([r["name"], r["city"]] + r["tags"])
    counts.update(line.split())

# Churn: replace a third of the records with new ones (frees and reallocations).
for i in range(0, n, 3):
    records[i] = {"id": i, "name": rng.choice(words), "city": rng.choice(cities),
                  "age": 0, "score": 0.0, "tags": []}

h = hashlib.sha256()
h.update(json.dumps(sorted((c, a[0], round(a[1], 3)) for c, a in per_city.items())).encode())
h.update(json.dumps([r["id"] for r in top]).encode())
h.update(json.dumps(sorted(counts.most_common(50))).encode())
h.update(str(hits).encode())
h.update(str(sum(r["age"] for r in records)).encode())
print(f"python3-workload: seed={seed} n={n} hits={hits} sha256={h.hexdigest()[:16]}")
EOF
}

write_perl_script() {
  cat >"$1" <<'EOF'
# placement benchmark, perl workload: hashes, arrays, strings, regexes. argv: SEED N
use strict; use warnings;
my ($seed, $n) = @ARGV;
srand($seed);
my @alpha = ('a'..'z');
sub word { my $l = 3 + int(rand(10)); join '', map { $alpha[int rand 26] } 1..$l }
my @words = map { word() } 1..4096;

# A large table: key -> [fields], mostly cold.
my %table;
for my $i (1..$n) {
  my $k = $words[int rand @words] . "-$i";
  $table{$k} = [$i, int(rand(1000)), join(' ', map { $words[int rand @words] } 1..(1 + int rand 6))];
}
# A hot hash probed over and over.
my %hot;
$hot{$words[$_]} = $_ for 0..$#words;
my $hits = 0;
for (1..(8 * $n)) { $hits++ if exists $hot{$words[int rand @words] . (rand() < 0.5 ? '' : 'x')} }

# Regexes over generated lines.
my ($matches, $total_len) = (0, 0);
for my $k (keys %table) {
  my $line = "$k: " . $table{$k}[2];
  $total_len += length $line;
  $matches++ if $line =~ /\b([aeiou]\w{2,})\b.*\b\1\b/;
  (my $copy = $line) =~ s/([aeiou])/uc $1/ge;
  $matches++ if $copy =~ /^[A-Z]/;
}
# Sort by value, then delete half (frees).
my @sorted = sort { $table{$a}[1] <=> $table{$b}[1] || $a cmp $b } keys %table;
delete @table{@sorted[0 .. int($#sorted / 2)]};
my $sum = 0;
$sum += $_->[1] for values %table;
my $digest = unpack('%32C*', join(',', @sorted[0..99]));
print "perl-workload: seed=$seed n=$n hits=$hits matches=$matches len=$total_len left=",
      scalar(keys %table), " sum=$sum digest=$digest\n";
EOF
}

write_sql_script() {  # OUT SEED ROWS
  "$PY" - "$1" "$2" "$3" <<'EOF'
import random, sys
out, seed, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10)))
         for _ in range(2000)]
customers = rows // 10
with open(out, "w") as f:
    w = f.write
    w("PRAGMA cache_size=-262144;\n")
    w("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score REAL);\n")
    w("CREATE TABLE orders(id INTEGER PRIMARY KEY, cust INTEGER, amount REAL, day INTEGER, note TEXT);\n")
    w("BEGIN;\n")
    for i in range(customers):  # parsed statement by statement: the parser's allocations
        w("INSERT INTO customers VALUES(%d,'%s %s','%s',%.3f);\n"
          % (i, rng.choice(words), rng.choice(words), rng.choice(words[:50]), rng.random() * 100))
    w("COMMIT;\n")
    # The bulk of the orders from a seeded LCG in SQL (fast), with text notes.
    w("""INSERT INTO orders(cust, amount, day, note)
WITH RECURSIVE g(i, x) AS (SELECT 1, %d UNION ALL
  SELECT i + 1, (x * 1103515245 + 12345) %% 2147483648 FROM g WHERE i < %d)
SELECT x %% %d, (x / 7) %% 100000 / 100.0, (x / 13) %% 365,
       printf('note-%%d-%%s', x %% 997, substr('abcdefghijklmnopqrstuvwxyz', 1 + x %% 20, 6))
FROM g;\n""" % (seed * 7919 + 17, rows, customers))
    w("CREATE INDEX orders_cust ON orders(cust);\n")
    w("CREATE INDEX orders_day ON orders(day, amount);\n")
    w("CREATE INDEX customers_city ON customers(city);\n")
    for q in range(40):
        city = rng.choice(words[:50])
        lo = rng.randint(0, 300)
        w("SELECT count(*), round(sum(o.amount), 2) FROM orders o JOIN customers c ON c.id = o.cust "
          "WHERE c.city = '%s' AND o.day BETWEEN %d AND %d;\n" % (city, lo, lo + 30))
    w("SELECT city, count(*), round(avg(score), 3) FROM customers GROUP BY city ORDER BY 2 DESC, 1 LIMIT 10;\n")
    w("SELECT cust, round(sum(amount), 2) AS s FROM orders GROUP BY cust ORDER BY s DESC, cust LIMIT 10;\n")
    w("SELECT day, count(*) FROM orders WHERE note LIKE '%%-abc%%' GROUP BY day ORDER BY 2 DESC, 1 LIMIT 5;\n")
    w("SELECT id, amount, rank() OVER (PARTITION BY day ORDER BY amount DESC, id) AS r FROM orders "
      "WHERE day < 3 ORDER BY r, id LIMIT 10;\n")
    w("UPDATE orders SET amount = amount * 1.1 WHERE day %% 7 = %d;\n" % (seed % 7))
    w("DELETE FROM orders WHERE cust %% 5 = %d;\n" % (seed % 5))
    w("SELECT count(*), round(sum(amount), 2), min(note), max(note) FROM orders;\n")
    w("SELECT c.name, count(*) FROM customers c JOIN orders o ON o.cust = c.id GROUP BY c.id "
      "ORDER BY 2 DESC, 1 LIMIT 10;\n")
    w("SELECT count(DISTINCT note) FROM orders;\n")
EOF
}

# ---- the workloads ----
# Each wl_NAME INPUT prints its parameters into the globals: cmd (the argv), env_vars (NAME=VALUE
# list), stdin_file (or empty). redis is driven separately (a server and a client).

setup_inputs() { mkdir -p "$1/inputs"; }

wl_ingest() {
  case $1 in
    A) cmd=("$EXAMPLES/ts-example-ingest" --seed 1) ;;
    B) cmd=("$EXAMPLES/ts-example-ingest" --seed 2 --records 240000) ;;
  esac
}

wl_kvcache() {
  case $1 in
    A) cmd=("$EXAMPLES/ts-example-kvcache" --ops 12000000 --keys 65536) ;;
    B) cmd=("$EXAMPLES/ts-example-kvcache" --ops 15000000 --keys 98304) ;;
  esac
}

wl_stress() {
  case $1 in
    A) cmd=("$EXAMPLES/ts-example-stress" --threads 2 --ops 10000000 --ring 1024 --depth 4) ;;
    B) cmd=("$EXAMPLES/ts-example-stress" --threads 2 --ops 12000000 --ring 4096 --depth 6) ;;
  esac
}

# python3: PYTHONMALLOC=malloc, so every object is its own malloc with its own stack;
# python3-pymalloc: the same script with CPython's default allocator (small objects live in 1 MiB
# arenas that CPython mmaps itself: each arena is one block, its site the path that needed it).
wl_python3() {
  local dir=$2 seed n
  case $1 in A) seed=1 n=110000 ;; B) seed=2 n=140000 ;; esac
  write_python_script "$dir/inputs/workload.py"
  env_vars=(PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 PYTHONMALLOC=malloc)
  cmd=(/usr/bin/python3.11 "$dir/inputs/workload.py" "$seed" "$n")
}

wl_python3_pymalloc() {
  local dir=$2 seed n
  case $1 in A) seed=1 n=170000 ;; B) seed=2 n=210000 ;; esac
  write_python_script "$dir/inputs/workload.py"
  env_vars=(PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1)
  cmd=(/usr/bin/python3.11 "$dir/inputs/workload.py" "$seed" "$n")
}

wl_perl() {
  local dir=$2 seed n
  case $1 in A) seed=1 n=240000 ;; B) seed=2 n=300000 ;; esac
  write_perl_script "$dir/inputs/workload.pl"
  env_vars=(PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0)
  cmd=(/usr/bin/perl "$dir/inputs/workload.pl" "$seed" "$n")
}

wl_sqlite3() {
  local dir=$2 seed rows
  case $1 in A) seed=1 rows=750000 ;; B) seed=2 rows=950000 ;; esac
  local sql="$dir/inputs/sqlite-$1.sql"
  write_sql_script "$sql" "$seed" "$rows"
  cmd=(/usr/bin/sqlite3 -batch -bail :memory: ".read $sql")
}

# redis: parameters of the cold bulk (DEBUG POPULATE) and of the benchmark's hot key space.
redis_params() {
  case $1 in
    A) cold_keys=200000 cold_size=200 hot_keys=40000 data=64 requests=200000 ;;
    B) cold_keys=300000 cold_size=300 hot_keys=80000 data=128 requests=200000 ;;
  esac
}

# ---- running ----

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

write_meta() {  # FILE NAME INPUT MODE WALL STATUS TRACE -- ARGV...
  local file=$1 name=$2 input=$3 mode=$4 wall=$5 status=$6 trace=$7; shift 8
  "$PY" - "$file" "$name" "$input" "$mode" "$wall" "$status" "$trace" "$@" <<'EOF'
import json, os, sys
file, name, inp, mode, wall, status, trace = sys.argv[1:8]
meta = {"workload": name, "input": inp, "mode": mode, "wall_s": round(float(wall), 3),
        "status": int(status), "command": sys.argv[8:]}
if trace:
    meta["trace"] = trace
    meta["trace_bytes"] = os.path.getsize(trace) if os.path.exists(trace) else None
json.dump(meta, open(file, "w"), indent=1)
EOF
}

# run_simple MODE NAME INPUT DIR: one process, plain or under the recorder.
run_simple() {
  local mode=$1 name=$2 input=$3 dir=$4
  local wdir="$dir/$name"; mkdir -p "$wdir"; setup_inputs "$dir"
  cmd=(); env_vars=()
  "wl_${name//-/_}" "$input" "$dir"
  local base full trace=""
  if [ "$mode" = record ]; then
    base="$wdir/$input"; trace="$base.trace"; rm -f "$trace" "$wdir/$input".*.trace
    mapfile -t rf < <(record_flags "$trace")
    full=(env "${env_vars[@]}" "$TIERSCOPE" "${rf[@]}" -- "${cmd[@]}")
  else
    base="$wdir/$input.plain"
    full=(env "${env_vars[@]}" "${cmd[@]}")
  fi
  local t0 t1 status=0
  t0=$(now)
  timeout -k 15 "$RECORD_TIMEOUT" "${full[@]}" >"$base.stdout" 2>"$base.stderr" </dev/null || status=$?
  t1=$(now)
  write_meta "$base.meta.json" "$name" "$input" "$mode" "$(elapsed "$t0" "$t1")" "$status" "$trace" -- "${full[@]}"
  if [ "$status" -ne 0 ]; then
    echo "workloads.sh: $name $input ($mode) exited with status $status (124: timed out); see $base.stderr" >&2
    return 1
  fi
}

redis_cli() { timeout 30 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# run_redis MODE INPUT DIR: redis-server (under the recorder or plain) on 127.0.0.1:REDIS_PORT,
# no persistence; a cold bulk of keys from DEBUG POPULATE, then redis-benchmark (not recorded) on
# a smaller, hot key space with a bounded number of requests; then SHUTDOWN NOSAVE.
run_redis() {
  local mode=$1 input=$2 dir=$3 name=redis
  local wdir="$dir/$name"; mkdir -p "$wdir"
  local cold_keys cold_size hot_keys data requests
  redis_params "$input"
  if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then
    die "port $REDIS_PORT on 127.0.0.1 is in use (set REDIS_PORT)"
  fi
  local rundir; rundir=$(mktemp -d /tmp/ts-placement-redis-XXXXXX)
  cmd=(/usr/bin/redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no
       --dir "$rundir" --daemonize no --protected-mode yes --enable-debug-command local
       --io-threads 1 --loglevel notice)
  local base full trace=""
  if [ "$mode" = record ]; then
    base="$wdir/$input"; trace="$base.trace"; rm -f "$trace" "$wdir/$input".*.trace
    mapfile -t rf < <(record_flags "$trace")
    full=("$TIERSCOPE" "${rf[@]}" -- "${cmd[@]}")
  else
    base="$wdir/$input.plain"
    full=("${cmd[@]}")
  fi
  local t0 t1 status=0 pid ok=0
  t0=$(now)
  timeout -k 15 "$RECORD_TIMEOUT" "${full[@]}" >"$base.stdout" 2>"$base.stderr" </dev/null &
  pid=$!
  for _ in $(seq 100); do  # up to 10 s for the server to answer
    if redis_cli ping 2>/dev/null | grep -q PONG; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  local client="$base.client"
  : >"$client"
  if [ "$ok" = 1 ]; then
    {
      echo "== DEBUG POPULATE $cold_keys cold $cold_size"
      redis_cli debug populate "$cold_keys" cold "$cold_size"
      echo "== redis-benchmark: fill the hot key space"
      timeout 120 redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" --csv -c 20 -P 16 -r "$hot_keys" \
        -n "$hot_keys" -d "$data" -t set
      echo "== redis-benchmark: mixed load on the hot key space"
      timeout 180 redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" --csv -c 20 -P 16 -r "$hot_keys" \
        -n "$requests" -d "$data" -t get,set,incr,lpush,rpop,sadd,hset,spop,zadd,lrange_100
      echo "== dbsize / memory"
      redis_cli dbsize
      redis_cli info memory | grep -E '^used_memory:|^used_memory_peak:' || true
    } >>"$client" 2>&1 || { echo "workloads.sh: redis client step failed, see $client" >&2; ok=0; }
    redis_cli shutdown nosave >>"$client" 2>&1 || true  # the connection closes: no reply
  else
    echo "workloads.sh: redis-server did not answer on 127.0.0.1:$REDIS_PORT; see $base.stderr" >&2
  fi
  wait "$pid" || status=$?
  t1=$(now)
  rm -rf "$rundir"
  write_meta "$base.meta.json" "$name" "$input" "$mode" "$(elapsed "$t0" "$t1")" "$status" "$trace" -- "${full[@]}"
  if [ "$status" -ne 0 ] || [ "$ok" != 1 ]; then
    echo "workloads.sh: redis $input ($mode): server status $status, client ok=$ok; see $base.stderr $client" >&2
    return 1
  fi
}

describe() {
  local name=$1 input=$2
  if [ "$name" = redis ]; then
    local cold_keys cold_size hot_keys data requests; redis_params "$input"
    echo "redis-server on 127.0.0.1:$REDIS_PORT (--save '' --appendonly no);" \
      "DEBUG POPULATE $cold_keys keys of $cold_size B; redis-benchmark -r $hot_keys -d $data -n $requests" \
      "(get,set,incr,lpush,rpop,sadd,hset,spop,zadd,lrange_100; -c 20 -P 16)"
    return
  fi
  local tmp; tmp=$(mktemp -d); cmd=(); env_vars=()
  mkdir -p "$tmp/inputs"
  "wl_${name//-/_}" "$input" "$tmp"
  echo "${env_vars[*]} ${cmd[*]}" | sed "s|$tmp/inputs/|inputs/|g; s|$repo/||g; s|^ ||"
  rm -rf "$tmp"
}

main() {
  local action=${1:-}
  case $action in
    list) printf '%s\n' "${WORKLOADS[@]}"; return ;;
    describe) [ $# -eq 3 ] || die "usage: workloads.sh describe NAME A|B" ;;
    record|plain) [ $# -eq 4 ] || die "usage: workloads.sh $action NAME A|B DIR" ;;
    *) die "usage: workloads.sh list | describe NAME A|B | record NAME A|B DIR | plain NAME A|B DIR" ;;
  esac
  local name=$2 input=$3
  printf '%s\n' "${WORKLOADS[@]}" | grep -qx -- "$name" || die "unknown workload '$name' (see list)"
  case $input in A|B) ;; *) die "input must be A or B, not '$input'" ;; esac
  if [ "$action" = describe ]; then describe "$name" "$input"; return; fi
  local dir=$4
  mkdir -p "$dir/inputs"
  dir=$(cd "$dir" && pwd)
  if [ "$action" = record ] && [ ! -x "$TIERSCOPE" ]; then die "$TIERSCOPE is not built"; fi
  if [ "$name" = redis ]; then run_redis "$action" "$input" "$dir"
  else run_simple "$action" "$name" "$input" "$dir"; fi
}

main "$@"
