#!/usr/bin/env bash
# Fuzzes mailsleuth's ingest parsers with cargo-fuzz / libFuzzer (see docs/fuzzing-notes.md).
#
#   scripts/fuzz.sh SECONDS [TARGET...]   fuzz each target (default: all) for SECONDS
#   scripts/fuzz.sh build                 only build the targets
#   scripts/fuzz.sh seed [TARGET...]      only (re)seed the corpora
#   scripts/fuzz.sh list                  list the targets
#   scripts/fuzz.sh repro TARGET FILE     run one input (prints the panic and backtrace)
#   scripts/fuzz.sh tmin TARGET FILE      minimise a crashing input (cargo fuzz tmin)
#
# Only the stable toolchain is needed: RUSTC_BOOTSTRAP=1 lets it accept the -Z flags
# cargo-fuzz passes. Environment:
#   FUZZ_JOBS       targets fuzzed at once (default 2: one per core, each uses one process)
#   FUZZ_SANITIZER  none (default: safe Rust; panics and overflow checks are what we hunt)
#                   or address (slower, for the unsafe code in dependencies)
#   FUZZ_FORK       1 (default): libFuzzer fork mode, keeps going after a crash so one run
#                   reports every distinct panic; 0: classic mode, stops at the first crash
#   MAILSLEUTH_FUZZ_MASK  comma-separated ids of known, reported bugs the harness steers
#                   around so a run finds the next one (ids: fuzz/src/lib.rs, `masked`)
#
# Seeds: copied each run from samples/ and ../shared/samples/public/ (when present) into
# fuzz/corpus/<target>/ (git-ignored), as slices of at most 16 KiB. Crashes and hangs land in
# fuzz/artifacts/<target>/, logs in fuzz/artifacts/logs/<target>.log (both git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ="$ROOT/fuzz"
export RUSTC_BOOTSTRAP=1
JOBS="${FUZZ_JOBS:-2}"
SANITIZER="${FUZZ_SANITIZER:-none}"
FORK="${FUZZ_FORK:-1}"
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
BIN_DIR="$FUZZ/target/$TRIPLE/release"
# Keep these identical everywhere (build, run, tmin), or cargo-fuzz rebuilds from scratch.
BUILD_FLAGS=(--sanitizer "$SANITIZER" --debug-assertions --codegen-units 16)

ALL_TARGETS=(detect csv_split json_split ual_csv ual_json mailbox_audit_csv message_trace
    signin utf16 time ip bags ingest_file)

die() { echo "fuzz.sh: $*" >&2; exit 2; }

ensure_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "== installing cargo-fuzz" >&2
        cargo install cargo-fuzz --locked
    fi
}

build() {
    ensure_cargo_fuzz
    echo "== building fuzz targets (sanitizer: $SANITIZER)" >&2
    (cd "$FUZZ" && cargo fuzz build "${BUILD_FLAGS[@]}")
}

max_len() {
    case "$1" in
        time | ip) echo 256 ;;
        bags) echo 4096 ;;
        *) echo 16384 ;;
    esac
}

dict_for() {
    case "$1" in
        time) echo "$FUZZ/dicts/time.dict" ;;
        ip) echo "$FUZZ/dicts/ip.dict" ;;
        bags) echo "" ;;
        *) echo "$FUZZ/dicts/mailsleuth.dict" ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# Seeds

SAMPLE_DIRS=("$ROOT/samples" "$ROOT/../shared/samples/public")

sample_files() {
    local d
    for d in "${SAMPLE_DIRS[@]}"; do
        if [ -d "$d" ]; then find "$d" -type f ! -name '.*' ! -name 'README*' -print; fi
    done | sort
}

# The file as UTF-8 on stdout (UTF-16 with a BOM is converted, as the driver would).
as_utf8() {
    local magic
    magic="$(od -An -tx1 -N2 "$1" | tr -d ' \n')"
    if [ "$magic" = "fffe" ] || [ "$magic" = "feff" ]; then
        iconv -f UTF-16 -t UTF-8 "$1" 2>/dev/null || cat "$1"
    else
        cat "$1"
    fi
}

# seed_windows SRC DEST_DIR PREFIX RAW: the whole file when small, else the first 40 lines
# (header included) and 30-line windows at 1/4, 1/2 and 3/4; each at most 16 KiB. RAW=1 keeps
# the original bytes (encodings), RAW=0 converts to UTF-8. PREFIX bytes go in front.
seed_windows() {
    local src="$1" dest="$2" prefix="$3" raw="$4" base tmp n k i=0
    base="$(basename "$src" | tr -c 'A-Za-z0-9._-' '_')"
    tmp="$(mktemp)"
    if [ "$raw" = 1 ]; then cat "$src" >"$tmp"; else as_utf8 "$src" >"$tmp"; fi
    if [ "$(wc -c <"$tmp")" -le 16384 ]; then
        { printf "$prefix"; cat "$tmp"; } >"$dest/seed-$base"
    elif [ "$raw" = 1 ] && [ "$(od -An -tx1 -N2 "$tmp" | tr -d ' \n')" = fffe ]; then
        # UTF-16: a byte window of an even size keeps the code units aligned.
        { printf "$prefix"; dd if="$tmp" bs=16384 count=1 status=none; } >"$dest/seed-$base-0"
    else
        n="$(wc -l <"$tmp")"
        for k in 0 $((n / 4)) $((n / 2)) $((3 * n / 4)); do
            if [ "$k" = 0 ]; then
                { printf "$prefix"; sed -n '1,40p' "$tmp"; } >"$dest/seed-$base-$i"
            else
                { printf "$prefix"; sed -n "$((k + 1)),$((k + 30))p" "$tmp"; } >"$dest/seed-$base-$i"
            fi
            truncate -s '<16384' "$dest/seed-$base-$i"
            i=$((i + 1))
        done
    fi
    rm -f "$tmp"
}

# Which sample families feed which target (by path; the sample folders are named by family).
wants() {
    local target="$1" f="$2"
    case "$target" in
        detect | ingest_file | utf16 | csv_split) return 0 ;;
        json_split) [[ "$f" =~ \.(json|log|ndjson)$ ]] ;;
        ual_csv) [[ "$f" =~ purview|[Aa]udit[Ll]og.*\.csv$ ]] ;;
        ual_json) [[ "$f" =~ extractor-suite|o365|UAL ]] && [[ ! "$f" =~ \.csv$ ]] ;;
        mailbox_audit_csv) [[ "$f" =~ mailbox-audit|MailboxAudit ]] ;;
        message_trace) [[ "$f" =~ message[-_]trace|MessageTrace|MTSummary ]] ;;
        signin) [[ "$f" =~ entra|signin|SignIn ]] ;;
        *) return 1 ;;
    esac
}

# At most 8 strings of each shape (digits and hex letters folded), 200 in all; reads all of
# its input (no SIGPIPE upstream).
variety() {
    awk '{ k = $0; gsub(/[0-9a-fA-F]/, "9", k); if (n[k]++ < 8 && c++ < 200) print }'
}

seed() {
    local target="$1" dest="$FUZZ/corpus/$1" f prefix raw
    mkdir -p "$dest"
    case "$target" in
        time)
            sample_files | while read -r f; do as_utf8 "$f"; done |
                (grep -ohE '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.,]+(Z| ?[+-][0-9:]+| UTC)?|[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}( [0-9:.]+( ?[AaPp]\.?[Mm]\.?)?)?|\\?/Date\([0-9+-]+\)\\?/' || true) |
                sort -u | variety | {
                i=0
                while IFS= read -r line; do
                    printf '%s' "$line" >"$dest/seed-$i"
                    i=$((i + 1))
                done
            }
            return
            ;;
        ip)
            sample_files | while read -r f; do as_utf8 "$f"; done |
                (grep -ohE '\[?[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}(\.[0-9]{1,3}){0,3}\]?(:[0-9]{1,5})?|[0-9]{1,3}(\.[0-9]{1,3}){3}(:[0-9]{1,5})?' || true) |
                sort -u | variety | {
                i=0
                while IFS= read -r line; do
                    printf '%s' "$line" >"$dest/seed-$i"
                    i=$((i + 1))
                done
            }
            printf '%s' '[2001:DB8::0ABC]:443' >"$dest/seed-hand-1"
            printf '%s' '::FFFF:0a0b:0c0d' >"$dest/seed-hand-2"
            printf '%s' '[localhost]:8080' >"$dest/seed-hand-3"
            return
            ;;
        bags) return ;; # structured (arbitrary) input: sample bytes mean nothing to it
    esac
    prefix=""
    raw=0
    case "$target" in
        csv_split | json_split) prefix='\377\020\007' ;; # the 3 parameter bytes
        detect | ingest_file | utf16) raw=1 ;;            # these decode for themselves
    esac
    sample_files | while read -r f; do
        if wants "$target" "$f"; then seed_windows "$f" "$dest" "$prefix" "$raw"; fi
    done
}

# ---------------------------------------------------------------------------------------------
# Running

run_one() {
    local target="$1" secs="$2" log="$FUZZ/artifacts/logs/$1.log" dict args
    mkdir -p "$FUZZ/artifacts/$target" "$FUZZ/artifacts/logs" "$FUZZ/corpus/$target"
    args=(-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len "$target")"
        -artifact_prefix="$FUZZ/artifacts/$target/" -print_final_stats=1)
    dict="$(dict_for "$target")"
    [ -n "$dict" ] && [ -f "$dict" ] && args+=(-dict="$dict")
    if [ "$FORK" = 1 ]; then
        args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    echo "== $target: ${secs}s" >&2
    # Keep the corpus directory first: new finds are written there.
    "$BIN_DIR/$target" "${args[@]}" "$FUZZ/corpus/$target" >"$log" 2>&1 || true
}

new_artifacts() {
    find "$FUZZ/artifacts/$1" -maxdepth 1 -type f \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) \
        -newer "$2" | sort
}

# site<TAB>message for one artifact: replays it (fork mode keeps no child output) and names the
# first frame in mailsleuth's src/ (else in the harness, else the panic location).
classify() {
    local target="$1" file="$2" out site msg
    case "$(basename "$file")" in
        timeout-*) printf 'hang (>10 s)\t%s\n' "timeout" && return ;;
        oom-*) printf 'out of memory (>2 GiB)\t%s\n' "oom" && return ;;
    esac
    out="$(RUST_BACKTRACE=1 timeout 30 "$BIN_DIR/$target" -runs=1 -rss_limit_mb=2048 "$file" 2>&1)"
    msg="$(grep -aA1 'panicked at' <<<"$out" | sed -n 2p | cut -c1-160)"
    site="$(grep -aoE 'at \./src/[^ ]+:[0-9]+' <<<"$out" | head -1 | sed 's/^at \.\///')"
    [ -n "$site" ] || site="$(grep -aoE 'at \./fuzz/[^ ]+:[0-9]+' <<<"$out" | head -1 | sed 's/^at \.\///')"
    [ -n "$site" ] || site="$(grep -aoE 'panicked at [^ ]+' <<<"$out" | head -1 | sed 's/^panicked at //')"
    [ -n "$site" ] || site="no panic on replay (flaky or harness)"
    printf '%s\t%s\n' "$site" "$msg"
}

summary() {
    set +e
    local stamp="$1" t log line execs cov ft n sites report
    shift
    report="$(mktemp)"
    printf '\n%-18s %12s %8s %8s %8s %8s\n' target execs cov ft crashes distinct
    for t in "$@"; do
        log="$FUZZ/artifacts/logs/$t.log"
        line="$(grep -aE '^#[0-9]+.*cov: [0-9]+' "$log" | tail -1)"
        execs="$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")"
        n="$(grep -aoE 'stat::number_of_executed_units: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$')"
        [ -n "$n" ] && execs="$n" # classic mode prints the exact count at exit
        cov="$(grep -oE 'cov: [0-9]+' <<<"$line" | grep -oE '[0-9]+')"
        ft="$(grep -oE 'ft: [0-9]+' <<<"$line" | grep -oE '[0-9]+')"
        : >"$report.$t"
        new_artifacts "$t" "$stamp" | head -40 | while read -r f; do
            printf '%s\t%s\n' "$(classify "$t" "$f")" "${f#"$ROOT"/}"
        done >"$report.$t"
        n="$(new_artifacts "$t" "$stamp" | wc -l)"
        sites="$(cut -f1 "$report.$t" | sort -u | grep -c .)"
        printf '%-18s %12s %8s %8s %8s %8s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$n" "$sites"
    done
    for t in "$@"; do
        [ -s "$report.$t" ] || continue
        echo
        echo "-- $t: crashes by site (count, site, example message, example input)"
        sort "$report.$t" | awk -F'\t' '{ c[$1]++; if (!($1 in m)) { m[$1] = $2; f[$1] = $3 } }
            END { for (k in c) printf "  %4d  %s\n        %s\n        %s\n", c[k], k, m[k], f[k] }'
        rm -f "$report.$t"
    done
    rm -f "$report"
    return 0
}

main() {
    [ $# -ge 1 ] || die "usage: scripts/fuzz.sh SECONDS [TARGET...] | build | list | repro TARGET FILE | tmin TARGET FILE"
    case "$1" in
        list)
            printf '%s\n' "${ALL_TARGETS[@]}"
            return
            ;;
        build)
            build
            return
            ;;
        seed)
            shift
            local t
            for t in "${@:-${ALL_TARGETS[@]}}"; do seed "$t"; done
            return
            ;;
        repro)
            [ $# -eq 3 ] || die "usage: scripts/fuzz.sh repro TARGET FILE"
            build
            RUST_BACKTRACE=1 "$BIN_DIR/$2" -runs=1 "$(realpath "$3")"
            return
            ;;
        tmin)
            [ $# -eq 3 ] || die "usage: scripts/fuzz.sh tmin TARGET FILE"
            build
            local file
            file="$(realpath "$3")"
            (cd "$FUZZ" && cargo fuzz tmin "${BUILD_FLAGS[@]}" "$2" "$file" -- -rss_limit_mb=2048 -timeout=10)
            return
            ;;
    esac
    local secs="$1" t running=0
    shift
    [[ "$secs" =~ ^[0-9]+$ ]] || die "SECONDS must be a number"
    local targets=("$@")
    [ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
    for t in "${targets[@]}"; do
        [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || die "unknown target: $t (see: scripts/fuzz.sh list)"
    done
    build
    STAMP="$(mktemp)"
    trap 'rm -f "$STAMP"' EXIT
    for t in "${targets[@]}"; do seed "$t"; done
    for t in "${targets[@]}"; do
        run_one "$t" "$secs" &
        running=$((running + 1))
        if [ "$running" -ge "$JOBS" ]; then
            wait -n || true
            running=$((running - 1))
        fi
    done
    wait || true
    summary "$STAMP" "${targets[@]}"
}

main "$@"
