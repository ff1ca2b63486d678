#!/bin/sh
# discovery-bonjour: avahi announces the infrasim service.
. /usr/local/lib/infrasim/tap.sh

echo "1..3"
check "avahi-daemon is installed" command -v avahi-daemon
check "avahi-daemon is running" rc-service avahi-daemon status
check "the infrasim service is defined" grep -q '<type>_infrasim._udp</type>' /etc/avahi/services/infrasim.service
finish
