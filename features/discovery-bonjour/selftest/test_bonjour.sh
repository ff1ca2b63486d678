#!/bin/sh
# discovery-bonjour: avahi announces the infrasim service.
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi; }

echo "1..3"
check "avahi-daemon is installed" command -v avahi-daemon
check "avahi-daemon is running" rc-service avahi-daemon status
check "the infrasim service is defined" grep -q '<type>_infrasim._udp</type>' /etc/avahi/services/infrasim.service
exit $fail
