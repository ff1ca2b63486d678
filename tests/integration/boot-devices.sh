#!/bin/sh
# The Debian image booted as a user boots it, under QEMU (TCG) and not
# through isim-build --test: on QEMU's own NIC models, and on none, the
# guest loads its drivers, gets an address by DHCP and starts sshd; from a
# root disk on virtio-scsi and on SATA as well as virtio-blk; with
# sshd reachable or not, QMP's system_powerdown (the ACPI power button,
# what virsh shutdown sends) makes it shut down through OpenRC and power
# off, so that QEMU exits by itself. Real parts: the Debian base (built
# once into the cache), mtools for the cloud-init seed, socat for QMP and
# for the forwarded SSH port.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

image_tests
p=no-vpn-minimal
# Seconds from system_powerdown to QEMU's exit that count as "within
# seconds" under TCG on a loaded two-core machine.
DOWN=${ISIM_POWERDOWN_SECONDS:-60}
UP=${ISIM_BOOT_SECONDS:-600}

isim-compose -q -o "$T/comp" "$p"
expect 0 "builds $p on debian:bookworm" isim-build --base debian:bookworm -o "$T/a" "$T/comp"
img=$T/a/$p.qcow2
# The root disk's options for boot (disk below puts it elsewhere).
virtio_root="-drive file=$img,if=virtio,format=qcow2"
rootdrive=$virtio_root
kver=$(jq -r .kernel "$T/out")
tar=$(jq -r .base_rootfs "$T/out")
tar -xOf "$tar" "./usr/lib/modules/$kver/modules.dep" >"$T/modules.dep" 2>/dev/null
check "the image's kernel $kver has its modules.dep" test -s "$T/modules.dep"

# The NoCloud seed, as a FAT volume labelled CIDATA (cloud-init accepts it
# as it accepts the ISO): the required trusted signer, a host name, and a
# command that lists the loaded kernel modules on the console.
isim-sign keygen -W -o "$T/signer.key" >/dev/null
{
	echo '#cloud-config'
	echo 'write_files:'
	echo '  - path: /etc/infrasim/trusted-signers/control-plane.pub'
	echo '    permissions: "0644"'
	echo '    encoding: b64'
	echo "    content: $(base64 -w0 <"$T/signer.key.pub")"
	cat <<'EOF'
runcmd:
  - echo MODULES $(cut -d' ' -f1 /proc/modules | sort | paste -sd' ') >/dev/console
EOF
} >"$T/user-data"
printf 'instance-id: boot-devices\nlocal-hostname: boot-devices\n' >"$T/meta-data"
truncate -s 2M "$T/seed.img"
mformat -i "$T/seed.img" -v CIDATA ::
mcopy -i "$T/seed.img" "$T/user-data" "$T/meta-data" ::/


# boot NAME NIC-OPTIONS...: start the image in the background, console in
# $T/NAME.log, QMP on $T/NAME.qmp, QEMU's pid in $qpid; wait for the
# selftests' report on the console (at most UP seconds).
boot() {
	name=$1
	shift
	rm -f "$T/$name.log" "$T/$name.qmp"
	# shellcheck disable=SC2086 # $rootdrive is a list of options
	qemu-system-x86_64 -machine q35,accel=tcg -m 1024 -nographic -no-reboot -snapshot \
		$rootdrive \
		-drive "file=$T/seed.img,if=virtio,format=raw,readonly=on" \
		-qmp "unix:$T/$name.qmp,server=on,wait=off" "$@" \
		</dev/null >"$T/$name.log" 2>&1 &
	qpid=$!
	waited=0
	while [ "$waited" -lt "$UP" ]; do
		grep -q 'SELFTEST END' "$T/$name.log" 2>/dev/null && return 0
		kill -0 "$qpid" 2>/dev/null || return 1
		sleep 1
		waited=$((waited + 1))
	done
	return 1
}

# qmp NAME COMMAND...: send QMP commands (after the capabilities
# handshake) and keep QEMU's answers in $T/NAME.qmp.out.
qmp() {
	name=$1
	shift
	{
		echo '{"execute":"qmp_capabilities","id":0}'
		i=1
		for c in "$@"; do
			printf '{"execute":"%s","id":%d}\n' "$c" "$i"
			i=$((i + 1))
		done
		sleep 1
	} | socat -t 2 - "UNIX-CONNECT:$T/$name.qmp" >"$T/$name.qmp.out" 2>&1
}

# powerdown NAME: system_powerdown, then QEMU must exit 0 by itself
# within DOWN seconds, after the guest's orderly shutdown.
powerdown() {
	name=$1
	qmp "$name" system_powerdown
	contains "$name: QEMU took system_powerdown" "$T/$name.qmp.out" '"event": "POWERDOWN"'
	waited=0
	while kill -0 "$qpid" 2>/dev/null && [ "$waited" -lt "$DOWN" ]; do
		sleep 1
		waited=$((waited + 1))
	done
	if kill -0 "$qpid" 2>/dev/null; then
		not_ok "$name: the guest powers off within ${DOWN}s of system_powerdown" \
			"$(tail -n 20 "$T/$name.log")"
		kill "$qpid" 2>/dev/null
		wait "$qpid" 2>/dev/null
		return
	fi
	wait "$qpid"
	same "$name: the guest powers off within ${DOWN}s of system_powerdown, QEMU exits 0" 0 "$?"
	contains "$name: ... through OpenRC, which stops the services" "$T/$name.log" "Stopping"
	contains "$name: ... and the kernel's power-off" "$T/$name.log" "reboot: Power down"
}

# booted NAME TEXT QEMU-OPTIONS...: boot, and "ok TEXT" when the image
# reached its selftests; else "not ok TEXT" with the console's end, QEMU
# stopped, and false.
booted() {
	b_name=$1
	b_text=$2
	shift 2
	if boot "$b_name" "$@"; then
		ok "$b_text"
		return 0
	fi
	not_ok "$b_text" "$(tail -n 30 "$T/$b_name.log")"
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	return 1
}

# selftest NAME TEXT: the console's selftest report has the line "ok N - TEXT".
selftest() {
	if tr -d '\r' <"$T/$1.log" | grep -q "^ok [0-9]* - $2\$"; then
		ok "$1: selftest '$2' passes"
	else
		not_ok "$1: selftest '$2' passes" "$(sed -n '/SELFTEST BEGIN/,/SELFTEST END/p' "$T/$1.log")"
	fi
}

# nic MODEL MODULE [QEMU-OPTIONS...]: boot on QEMU's NIC MODEL, SSH
# forwarded from the host.
nic() {
	model=$1
	if ! grep -q "/$2\.ko" "$T/modules.dep"; then
		skip "$model: the guest gets an address and sshd answers" "kernel $kver has no $2 module"
		return
	fi
	port=$(free_port) || {
		not_ok "$model: a free TCP port for the SSH forward"
		return
	}
	shift 2
	booted "$model" "$model: the image boots to its selftests" \
		-nic "user,model=$model,hostfwd=tcp:127.0.0.1:$port-:22" "$@" || return
	selftest "$model" "a network interface besides lo is up"
	selftest "$model" "sshd is running"
	# QEMU's user network answers the forward only when the guest, at the
	# address its DHCP server gave, accepts the connection.
	banner=$(printf '' | socat -t 5 - "TCP:127.0.0.1:$port" 2>/dev/null | head -n 1)
	case $banner in
	SSH-2.0-*) ok "$model: the guest has its DHCP address and sshd answers on it" ;;
	*) not_ok "$model: the guest has its DHCP address and sshd answers on it" "banner: '$banner'" ;;
	esac
	powerdown "$model"
}

# ---- QEMU's NIC models --------------------------------------------------------
# With a virtio RNG, whose driver only the guest's modalias walk loads.
nic virtio-net-pci virtio_net -device virtio-rng-pci
modules=$(tr -d '\r' <"$T/virtio-net-pci.log" 2>/dev/null | sed -n 's/^MODULES //p' | head -n 1)
case " $modules " in
*" virtio_rng "*) ok "virtio-net-pci: the guest loaded virtio_rng for the virtio RNG it found" ;;
*) not_ok "virtio-net-pci: the guest loaded virtio_rng for the virtio RNG it found" "modules: $modules" ;;
esac
case " $modules " in
*" button "*) ok "... and the ACPI button driver" ;;
*) not_ok "... and the ACPI button driver" "modules: $modules" ;;
esac
nic e1000 e1000
nic e1000e e1000e
nic rtl8139 8139too

# ---- QEMU's disk controllers ----------------------------------------------------
# disk NAME QEMU-OPTIONS...: the root disk on another controller (the
# kernel command line names it by label, not as /dev/vda2).
disk() {
	name=$1
	shift
	rootdrive="$*"
	if booted "$name" "$name: the image boots to its selftests from a root disk on $name" -nic none; then
		selftest "$name" "sshd is running"
		powerdown "$name"
	fi
	rootdrive=$virtio_root
}
disk virtio-scsi -device virtio-scsi-pci,id=scsi0 -drive "file=$img,if=none,id=root,format=qcow2" \
	-device scsi-hd,drive=root,bus=scsi0.0
disk sata -drive "file=$img,if=none,id=root,format=qcow2" -device ide-hd,drive=root,bus=ide.0

# ---- no NIC at all ------------------------------------------------------------
if booted none "none: the image boots to its selftests without a NIC" -nic none; then
	selftest none "sshd is running"
	selftest none "the infrasim firewall table is loaded"
	powerdown none
fi

finish
