#!/usr/bin/env bash
# Benchmark mailsleuth on large generated exports.
#
#   scripts/bench.sh [SIZES…]          (default: 100MB 1GB 4GB)
#
# For each size: generates a data set with `examples/gen_large` into
# ${BENCH_DIR:-/tmp/mailsleuth-bench}/data-SIZE (skipped when already there), then measures with
# `/usr/bin/time -v` (wall time, peak RSS):
#   (a) `mailsleuth analyze DIR --out OUT --force --quiet`   end to end;
#   (b) mailsleuth's own parse floor, PARSE_FLOOR_CMD below (`mailsleuth inspect --quiet DIR`:
#       decode, split, parse and dedupe every record of every file, no analysis, no outputs);
#   and, on the same single file (the data set's Purview UAL CSV, ~85 % of its bytes):
#   (c) `mailsleuth analyze PURVIEW.csv` end to end;
#   (d) the plain parse floor: `examples/parse_floor` (csv + serde_json::Value for every
#       AuditData cell, on all cores, nothing else);
#   (e) DuckDB (from PyPI) reading it with read_csv and json_extract_string of Operation,
#       UserId, ClientIP and CreationTime, with a GROUP BY.
# Prints a Markdown table to stdout and writes it to ${BENCH_DIR}/results.md.
#
# Needs: cargo, python3 (with venv) for DuckDB, and GNU time at /usr/bin/time (the shell
# builtin `time` has no peak RSS). On Debian/Ubuntu: `apt-get install -y time`.
# Environment: BENCH_DIR, SEED (generator seed, default 1), THREADS (passed as --threads to
# mailsleuth when set), SHAPES (passed as --shapes to the generator when set, e.g.
# SHAPES=purview for a data set that is one UAL CSV of the full size; its folders are named
# data-SIZE-purview…), PARSE_FLOOR_CMD (see below).
# Every command starts with its input in the page cache (read once just before): the data sets
# of several sizes do not all stay cached in 24 GB, and a command that read part of its input
# from disk paid for it in CPU (the kernel's copies) as well as in time.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/mailsleuth-bench}
SEED=${SEED:-1}
if [ "$#" -gt 0 ]; then SIZES=("$@"); else SIZES=(100MB 1GB 4GB); fi

BIN="$ROOT/target/release/mailsleuth"
GEN="$ROOT/target/release/examples/gen_large"
FLOOR="$ROOT/target/release/examples/parse_floor"
GEN_ARGS=()
SUFFIX=""
if [ -n "${SHAPES:-}" ]; then GEN_ARGS=(--shapes "$SHAPES"); SUFFIX="-${SHAPES//,/-}"; fi
THREAD_ARGS=()
if [ -n "${THREADS:-}" ]; then THREAD_ARGS=(--threads "$THREADS"); fi

# ------------------------------------------------------------------------------------------
# >>> PARSE_FLOOR_CMD: the "parse only" floor; the data folder is appended as last argument. <<<
# mailsleuth has no parse-only mode yet; `inspect` decodes, splits and parses every record
# (and reports skips) without the analysis, so it is the floor for now. Change it here (or set
# PARSE_FLOOR_CMD in the environment) when a dedicated mode exists.
PARSE_FLOOR_CMD=${PARSE_FLOOR_CMD:-"$BIN${THREADS:+ --threads $THREADS} inspect --quiet"}
# ------------------------------------------------------------------------------------------

# GNU time: installed with `apt-get install -y time` when missing (as root on Debian/Ubuntu).
if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== /usr/bin/time missing: apt-get install -y time" >&2
        apt-get install -y time >&2 || { apt-get update >&2 && apt-get install -y time >&2; }
    fi
    if [ ! -x /usr/bin/time ]; then
        echo "bench.sh: /usr/bin/time (GNU time) is missing; install it: apt-get install -y time" >&2
        exit 2
    fi
fi

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)

echo "== building release binaries (mailsleuth, gen_large)" >&2
(cd "$ROOT" && cargo build --release --bin mailsleuth --example gen_large --example parse_floor) >&2

# DuckDB: use an importable one, else a venv under BENCH_DIR.
PY=python3
if ! "$PY" -c 'import duckdb' 2>/dev/null; then
    if [ ! -x "$BENCH_DIR/venv/bin/python" ]; then
        echo "== installing duckdb from PyPI into $BENCH_DIR/venv" >&2
        python3 -m venv "$BENCH_DIR/venv" >&2
        "$BENCH_DIR/venv/bin/pip" install --quiet duckdb >&2
    fi
    PY="$BENCH_DIR/venv/bin/python"
fi
DUCKDB_VERSION=$("$PY" -c 'import duckdb; print(duckdb.__version__)')

# The DuckDB query. read_csv must be told the quoting (RFC 4180: quote and escape are both `"`)
# and that lines are long (AuditData is 1–3 KB, with `""` doubling); max_line_size is raised
# well above that. All columns are declared so sniffing cannot guess wrong.
DUCK_PY="$BENCH_DIR/duckdb_bench.py"
cat > "$DUCK_PY" <<'PYEOF'
import sys, duckdb
path = sys.argv[1]
sql = f"""
WITH j AS (
  SELECT json_extract_string(AuditData,
           ['$.Operation', '$.UserId', '$.ClientIP', '$.CreationTime']) AS v
  FROM read_csv('{path}', header = true, delim = ',', quote = '"', escape = '"',
                max_line_size = 67108864, parallel = true,
                columns = {{'RecordId': 'VARCHAR', 'CreationDate': 'VARCHAR',
                           'RecordType': 'INTEGER', 'Operation': 'VARCHAR',
                           'UserId': 'VARCHAR', 'AuditData': 'VARCHAR',
                           'AssociatedAdminUnits': 'VARCHAR',
                           'AssociatedAdminUnitsNames': 'VARCHAR'}})
)
SELECT v[1] AS operation,
       count(*) AS records,
       count(DISTINCT lower(v[2])) AS users,
       count(DISTINCT v[3]) AS ips,
       min(v[4]) AS first,
       max(v[4]) AS last
FROM j
GROUP BY operation
ORDER BY records DESC
"""
rows = duckdb.sql(sql).fetchall()
print(f"groups={len(rows)} records={sum(r[1] for r in rows)}")
for r in rows[:5]:
    print(r)
PYEOF

# Runs a command under /usr/bin/time -v; sets WALL (s), RSS (MB), RC. MB are 10^6 bytes here as
# for the input sizes (GNU time reports KiB), so a peak over an input size is a true ratio.
measure() {
    local log=$1; shift
    local tf="$log.time"
    set +e
    /usr/bin/time -v -o "$tf" "$@" >"$log" 2>&1
    RC=$?
    set -e
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; printf "%.2f", s }' "$tf")
    RSS=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 * 1024 / 1e6 }' "$tf")
}

# Reads a file or a folder's files once, so the next command finds them in the page cache.
warm() { find "$1" -type f -exec cat {} + >/dev/null; }

summary_field() { # summary_field DIR KEY(shape or all) COLUMN(3=records, 4=bytes)
    awk -F'\t' -v k="$2" -v c="$3" '$2 == k { print $c }' "$1/.gen_large-summary.tsv"
}

rate() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "–" }'; }
rate0() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", a / b; else print "–" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "–" }'; }

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 | $9 |"); }

for SIZE in "${SIZES[@]}"; do
    DATA="$BENCH_DIR/data-$SIZE$SUFFIX"
    OUT="$BENCH_DIR/out-$SIZE$SUFFIX"
    LOGS="$BENCH_DIR/logs-$SIZE$SUFFIX"
    mkdir -p "$LOGS"
    if [ -f "$DATA/.gen_large-summary.tsv" ]; then
        echo "== $SIZE: data set present in $DATA (skipping generation)" >&2
    else
        echo "== $SIZE: generating into $DATA" >&2
        rm -rf "$DATA.partial"
        measure "$LOGS/gen.log" "$GEN" --size "$SIZE" --seed "$SEED" "${GEN_ARGS[@]}" --out "$DATA.partial"
        if [ "$RC" -ne 0 ]; then cat "$LOGS/gen.log" >&2; exit 1; fi
        mv "$DATA.partial" "$DATA"
        GEN_BYTES=$(summary_field "$DATA" all 4)
        GEN_RECS=$(summary_field "$DATA" all 3)
        row "$SIZE$SUFFIX" "$(rate "$GEN_BYTES" 1000000)" "gen_large (generate)" "$WALL" \
            "$(rate "$GEN_BYTES" "$(awk -v w="$WALL" 'BEGIN{print w*1000000}')")" \
            "$(rate0 "$GEN_RECS" "$WALL")" "$RSS" "" ""
    fi
    IN_BYTES=$(summary_field "$DATA" all 4)
    IN_RECS=$(summary_field "$DATA" all 3)
    IN_MB=$(rate "$IN_BYTES" 1000000)
    PV_PATH="$DATA/$(awk -F'\t' '$2 == "purview" { print $1 }' "$DATA/.gen_large-summary.tsv")"
    PV_BYTES=$(summary_field "$DATA" purview 4)
    PV_RECS=$(summary_field "$DATA" purview 3)

    echo "== $SIZE: mailsleuth analyze" >&2
    warm "$DATA"
    measure "$LOGS/analyze.log" "$BIN" "${THREAD_ARGS[@]}" analyze "$DATA" --out "$OUT" --force --quiet
    A_WALL=$WALL A_RSS=$RSS A_RC=$RC
    echo "== $SIZE: parse floor: $PARSE_FLOOR_CMD" >&2
    # shellcheck disable=SC2086 # the command is a word list on purpose
    warm "$DATA"
    measure "$LOGS/parse-floor.log" $PARSE_FLOOR_CMD "$DATA"
    P_WALL=$WALL P_RSS=$RSS P_RC=$RC
    echo "== $SIZE: mailsleuth analyze on the Purview CSV alone" >&2
    warm "$PV_PATH"
    measure "$LOGS/analyze-purview.log" "$BIN" "${THREAD_ARGS[@]}" analyze "$PV_PATH" --out "$OUT-purview" --force --quiet
    AP_WALL=$WALL AP_RSS=$RSS AP_RC=$RC
    echo "== $SIZE: parse_floor (csv + serde_json::Value) on the Purview CSV" >&2
    warm "$PV_PATH"
    measure "$LOGS/parse-floor-purview.log" "$FLOOR" "$PV_PATH"
    F_WALL=$WALL F_RSS=$RSS F_RC=$RC
    echo "== $SIZE: duckdb $DUCKDB_VERSION on the Purview CSV" >&2
    warm "$PV_PATH"
    measure "$LOGS/duckdb.log" "$PY" "$DUCK_PY" "$PV_PATH"
    D_WALL=$WALL D_RSS=$RSS D_RC=$RC
    grep -m1 '^groups=' "$LOGS/duckdb.log" >&2 || true

    status() { case "$1" in 0) echo "";; 1) echo " (exit 1: partial)";; *) echo " (FAILED: exit $1)";; esac; }
    MBPS() { awk -v b="$1" -v w="$2" 'BEGIN { if (w > 0) printf "%.1f", b / 1e6 / w; else print "–" }'; }
    row "$SIZE$SUFFIX" "$IN_MB" "mailsleuth analyze$(status "$A_RC")" "$A_WALL" "$(MBPS "$IN_BYTES" "$A_WALL")" \
        "$(rate0 "$IN_RECS" "$A_WALL")" "$A_RSS" "analyze/parse-floor $(ratio "$A_WALL" "$P_WALL")" \
        "$(ratio "$A_RSS" "$P_RSS")"
    row "$SIZE$SUFFIX" "$IN_MB" "parse floor: ${PARSE_FLOOR_CMD##*/} DIR$(status "$P_RC")" "$P_WALL" \
        "$(MBPS "$IN_BYTES" "$P_WALL")" "$(rate0 "$IN_RECS" "$P_WALL")" "$P_RSS" "" ""
    PV_MB=$(rate "$PV_BYTES" 1000000)
    row "$SIZE$SUFFIX" "$PV_MB" "Purview CSV: mailsleuth analyze$(status "$AP_RC")" "$AP_WALL" \
        "$(MBPS "$PV_BYTES" "$AP_WALL")" "$(rate0 "$PV_RECS" "$AP_WALL")" "$AP_RSS" \
        "analyze/parse_floor $(ratio "$AP_WALL" "$F_WALL")" "$(ratio "$AP_RSS" "$F_RSS")"
    row "$SIZE$SUFFIX" "$PV_MB" "Purview CSV: parse_floor (csv + serde_json::Value)$(status "$F_RC")" "$F_WALL" \
        "$(MBPS "$PV_BYTES" "$F_WALL")" "$(rate0 "$PV_RECS" "$F_WALL")" "$F_RSS" "" ""
    row "$SIZE$SUFFIX" "$PV_MB" "Purview CSV: duckdb $DUCKDB_VERSION read_csv+json_extract_string+GROUP BY$(status "$D_RC")" \
        "$D_WALL" "$(MBPS "$PV_BYTES" "$D_WALL")" "$(rate0 "$PV_RECS" "$D_WALL")" "$D_RSS" \
        "duckdb/analyze $(ratio "$D_WALL" "$AP_WALL")" "$(ratio "$D_RSS" "$AP_RSS")"
done

{
    echo "# mailsleuth benchmark"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) · $(nproc) CPUs · $(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo) · seed $SEED · $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo
    echo "Records: all records of all files for mailsleuth (from the generator summary), Purview rows for DuckDB."
    echo "Ratios: time and peak RSS, analyze vs the parse floor, and DuckDB vs analyze."
    echo
    echo "| size | input MB | command | wall s | MB/s | records/s | peak RSS MB | ratio (time) | ratio (RSS) |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
} | tee "$BENCH_DIR/results.md"
