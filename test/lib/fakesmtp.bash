# bats helpers for test/fakesmtp.py.  Usage in a .bats file:
#   load lib/fakesmtp
#   teardown() { fake_stop; }
#   @test x { fake_start --reply rcpt:2=550 5.1.1 no; ...; fake_msg 1; }
#
# fake_start [fakesmtp options...]  start the server (adds --lifetime 30 unless given);
#                                   exports FAKE_PORT FAKE_DIR FAKE_PID
# fake_stop                         kill every server this test started (safe to repeat)
# fake_transcript [N]               cat the client->server bytes (all, or of connection N)
# fake_msg K / fake_env K           cat msg-K.eml / msg-K.env (accepted messages, K from 1)
# fake_rejected K                   cat rejected-K.eml (dot got a non-2xx reply)
# fake_count                        number of accepted messages
# fake_events                       cat the JSON-lines event log
# fake_chunks [N]                   one line per client recv() chunk (CR/LF shown as \r \n)
# fake_wait_closed [N] [SECS]       wait until N connections have closed (default 1, 5 s)
# certs_dir                         make/cache test certificates, echo their directory

_FAKESMTP_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAKESMTP_PY=${FAKESMTP_PY:-$_FAKESMTP_LIB_DIR/../fakesmtp.py}
_FAKE_PIDS=()

fake_start() {
    FAKE_DIR=${FAKE_DIR:-${BATS_TEST_TMPDIR:?}/fake}
    mkdir -p "$FAKE_DIR"
    rm -f "$FAKE_DIR/port"
    local extra=(--lifetime 30) arg
    for arg in "$@"; do
        if [[ $arg == --lifetime || $arg == --lifetime=* ]]; then extra=(); fi
    done
    python3 "$FAKESMTP_PY" --dir "$FAKE_DIR" --port-file "$FAKE_DIR/port" \
        "${extra[@]}" "$@" </dev/null >>"$FAKE_DIR/server.out" 2>&1 3>&- &
    FAKE_PID=$!
    _FAKE_PIDS+=("$FAKE_PID")
    local i
    for ((i = 0; i < 500; i++)); do
        [[ -s $FAKE_DIR/port ]] && break
        if ! kill -0 "$FAKE_PID" 2>/dev/null; then break; fi
        sleep 0.01
    done
    if [[ ! -s $FAKE_DIR/port ]]; then
        echo "fake_start: fakesmtp did not start (args: $*)" >&2
        cat "$FAKE_DIR/server.out" "$FAKE_DIR/server.log" >&2 2>/dev/null
        fake_stop
        return 1
    fi
    FAKE_PORT=$(<"$FAKE_DIR/port")
    export FAKE_PORT FAKE_DIR FAKE_PID
}

fake_stop() {
    local pid i
    for pid in "${_FAKE_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || continue
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.01
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    _FAKE_PIDS=()
    return 0
}

fake_transcript() {
    if [[ -n ${1:-} ]]; then cat "$FAKE_DIR/transcript.$1"; else cat "$FAKE_DIR/transcript"; fi
}
fake_msg() { cat "$FAKE_DIR/msg-${1:?message number}.eml"; }
fake_env() { cat "$FAKE_DIR/msg-${1:?message number}.env"; }
fake_rejected() { cat "$FAKE_DIR/rejected-${1:?message number}.eml"; }
fake_events() { cat "$FAKE_DIR/events"; }

fake_count() {
    local n=0 f
    for f in "$FAKE_DIR"/msg-*.eml; do if [[ -e $f ]]; then n=$((n + 1)); fi; done
    echo "$n"
}

fake_chunks() {
    python3 - "$FAKE_DIR/events" "${1:-}" <<'EOF'
import json, sys
conn = int(sys.argv[2]) if sys.argv[2] else None
for line in open(sys.argv[1], encoding='utf-8'):
    e = json.loads(line)
    if e.get('dir') != 'c2s' or (conn is not None and e['conn'] != conn):
        continue
    d = e['data'].replace('\\', '\\\\').replace('\r', '\\r').replace('\n', '\\n')
    sys.stdout.write(d + '\n')
EOF
}

fake_wait_closed() {
    local want=${1:-1} secs=${2:-5} i n
    for ((i = 0; i < secs * 100; i++)); do
        n=$(grep -c '"event":"close"' "$FAKE_DIR/events" 2>/dev/null) || true
        [[ ${n:-0} -ge $want ]] && return 0
        sleep 0.01
    done
    echo "fake_wait_closed: only ${n:-0} of $want connections closed" >&2
    return 1
}

certs_dir() {
    local d=${MAILOUT_CERTS:-${BATS_RUN_TMPDIR:?}/certs}
    sh "$_FAKESMTP_LIB_DIR/mkcerts.sh" "$d" >&2 || {
        echo "certs_dir: mkcerts.sh failed" >&2
        return 1
    }
    echo "$d"
}
