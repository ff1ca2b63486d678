#!/bin/sh
# infrasim, Debian base: /lib/rc/bin/start-stop-daemon, first on the PATH
# of OpenRC's service scripts. Debian's openrc has no start-stop-daemon of
# its own, so its start-stop-daemon.sh runs dpkg's, which lacks OpenRC's
# --stdout and --stderr (what output_log and error_log give): they become
# dpkg's --output (stdout and stderr to one file, appended), --progress is
# dropped, and what dpkg's cannot do is refused. Every other argument goes
# to /sbin/start-stop-daemon as it is.
out=
err=
n=$#
while [ "$n" -gt 0 ]; do
	a=$1
	shift
	n=$((n - 1))
	case $a in
	--)
		set -- "$@" "$a"
		while [ "$n" -gt 0 ]; do
			set -- "$@" "$1"
			shift
			n=$((n - 1))
		done
		break
		;;
	--stdout | --stderr)
		[ "$n" -gt 0 ] || { echo "start-stop-daemon: $a needs a file" >&2; exit 2; }
		if [ "$a" = --stdout ]; then out=$1; else err=$1; fi
		shift
		n=$((n - 1))
		;;
	--stdout=*) out=${a#*=} ;;
	--stderr=*) err=${a#*=} ;;
	--progress) ;;
	--stdout-logger* | --stderr-logger* | --capabilities* | --secbits* | --no-new-privs)
		echo "start-stop-daemon: ${a%%=*}: not supported by Debian's start-stop-daemon" >&2
		exit 2
		;;
	*) set -- "$@" "$a" ;;
	esac
done
if [ -n "$out" ] && [ -n "$err" ] && [ "$out" != "$err" ]; then
	echo "start-stop-daemon: standard error goes to $out too, not to $err" >&2
fi
if [ -n "$out$err" ]; then
	set -- --output "${out:-$err}" "$@"
fi
exec /sbin/start-stop-daemon "$@"
