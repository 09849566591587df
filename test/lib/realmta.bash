# bats helpers for the real Postfix + Dovecot of test/lib/realmta.sh.
#
#   load lib/realmta
#   setup_file()    { realmta_start [DIR] [--cert CERT --key KEY] [--postconf 'k = v']...; }
#   teardown_file() { realmta_stop; }
#
# realmta_start exports REALMTA_DIR, REALMTA_SMTP_PORT, REALMTA_SUBMISSION_PORT,
# REALMTA_SMTPS_PORT, REALMTA_PLAINAUTH_PORT, REALMTA_USER, REALMTA_PASSWORD.
# Delivered messages: $REALMTA_DIR/delivered/N.eml and N.env (N from 1), see realmta.sh.

REALMTA_SH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/realmta.sh"

# realmta_start [DIR] [options for realmta.sh start]
realmta_start() {
	local dir=${BATS_FILE_TMPDIR:-${BATS_TMPDIR:-/tmp}}/realmta
	if [[ $# -gt 0 && $1 != -* ]]; then
		dir=$1
		shift
	fi
	# 3>&-: bats' fd 3 must not reach the daemons
	bash "$REALMTA_SH" start "$dir" "$@" 3>&- || return 1
	realmta_env "$dir"
}

# realmta_env [DIR]: (re)export the REALMTA_* variables from DIR/ports
realmta_env() {
	local dir=${1:-$REALMTA_DIR}
	[[ -f $dir/ports ]] || { echo "realmta: no $dir/ports" >&2; return 1; }
	export REALMTA_DIR=$dir
	REALMTA_SMTP_PORT=$(sed -n 's/^smtp=//p' "$dir/ports")
	REALMTA_SUBMISSION_PORT=$(sed -n 's/^submission=//p' "$dir/ports")
	REALMTA_SMTPS_PORT=$(sed -n 's/^smtps=//p' "$dir/ports")
	REALMTA_PLAINAUTH_PORT=$(sed -n 's/^plainauth=//p' "$dir/ports")
	REALMTA_USER=$(sed -n 's/^user=//p' "$dir/ports")
	REALMTA_PASSWORD=$(sed -n 's/^password=//p' "$dir/ports")
	export REALMTA_SMTP_PORT REALMTA_SUBMISSION_PORT REALMTA_SMTPS_PORT \
		REALMTA_PLAINAUTH_PORT REALMTA_USER REALMTA_PASSWORD
}

# realmta_stop [DIR]
realmta_stop() {
	local dir=${1:-${REALMTA_DIR:-${BATS_FILE_TMPDIR:-/tmp}/realmta}}
	bash "$REALMTA_SH" stop "$dir" 3>&-
}

# realmta_running [DIR]: exit 0 while the servers run
realmta_running() {
	bash "$REALMTA_SH" status "${1:-$REALMTA_DIR}" 3>&-
}

# realmta_count: how many messages have been delivered so far
realmta_count() {
	local n=0
	while [[ -e $REALMTA_DIR/delivered/$((n + 1)).eml ]]; do n=$((n + 1)); done
	echo "$n"
}

# realmta_wait_delivered N [TIMEOUT_SECONDS=15]: until message N has been delivered
realmta_wait_delivered() {
	local n=$1 timeout=${2:-15} i
	for ((i = 0; i < timeout * 50; i++)); do
		[[ -e $REALMTA_DIR/delivered/$n.eml ]] && return 0
		sleep 0.02
	done
	echo "realmta: message $n not delivered within ${timeout}s ($(realmta_count) delivered); mail log:" >&2
	tail -n 20 "$REALMTA_DIR/maillog" >&2
	return 1
}

# realmta_delivered K: the bytes of the Kth delivered message (LF line endings,
# without the Received: header Postfix added)
realmta_delivered() {
	cat "$REALMTA_DIR/delivered/$1.eml"
}

# realmta_envelope K: from=, to= (one per recipient), sasl_method=, sasl_username=,
# protocol=, helo=, client=, size=, queue_id=, received= lines of the Kth message
realmta_envelope() {
	cat "$REALMTA_DIR/delivered/$1.env"
}

# realmta_clear: forget delivered messages (numbering restarts at 1); call only
# when no delivery is in progress
realmta_clear() {
	rm -f "$REALMTA_DIR"/delivered/*.eml "$REALMTA_DIR"/delivered/*.env
}
