# shellcheck shell=sh
# infrasim, Debian base: cloud-init's stages for the OpenRC services
# cloud-init, cloud-config and cloud-final, sourced by their start().
# cloud_stage_start starts /usr/lib/infrasim/cloud-init-stages, which
# imports cloud-init once for the three stages (3-4 s each under TCG when
# each stage is a process of its own); cloud_stage STAGE waits for the
# stage there. Where that process cannot start, or has died, a stage runs
# as its own process, as Debian's scripts run it.

CLOUD_STAGES=/run/infrasim-cloud-init

# cloud_stage_start: the process, with the lock of each stage held (flock
# on descriptors 7, 8, 9, which it inherits) until that stage is done.
cloud_stage_start() {
	rm -rf "$CLOUD_STAGES"
	if mkdir -m 0700 "$CLOUD_STAGES" && mkfifo -m 0600 "$CLOUD_STAGES/go" &&
		exec 7>"$CLOUD_STAGES/init.lock" 8>"$CLOUD_STAGES/config.lock" 9>"$CLOUD_STAGES/final.lock" &&
		flock -n 7 && flock -n 8 && flock -n 9; then
		/usr/lib/infrasim/cloud-init-stages "$CLOUD_STAGES" 7 8 9 </dev/null >/dev/console 2>&1 &
	else
		rm -rf "$CLOUD_STAGES"
	fi
	exec 7>&- 8>&- 9>&-
}

# cloud_stage STAGE: run cloud-init's STAGE (init, config or final); true
# when cloud-init exits 0 or 1 (recoverable errors), as in Debian's scripts.
cloud_stage() {
	cs_rc=
	if [ -p "$CLOUD_STAGES/go" ]; then
		# Read and write, so that opening never waits for a reader.
		[ "$1" = init ] || { exec 3<>"$CLOUD_STAGES/go" && echo "$1" >&3; exec 3>&-; }
		flock -s "$CLOUD_STAGES/$1.lock" true
		[ -r "$CLOUD_STAGES/$1.rc" ] && read -r cs_rc <"$CLOUD_STAGES/$1.rc"
	fi
	if [ -z "$cs_rc" ]; then
		case $1 in
		init) python3 -m cloudinit.cmd.main init ;;
		*) python3 -m cloudinit.cmd.main modules --mode "$1" ;;
		esac
		cs_rc=$?
	fi
	[ "$cs_rc" -le 1 ]
}
