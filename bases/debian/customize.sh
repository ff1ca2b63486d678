#!/bin/sh
# customize.sh ROOTFS: make a Debian bookworm tree from mmdebstrap
# (--variant=minbase, with the packages of ../debian.yaml) into an infrasim base
# that the Alpine-style features run on: OpenRC as init (through sysvinit's
# inittab), the OpenRC names the features use (sshd, net, localmount), DHCP
# on the first NIC without udev, cloud-init from a NoCloud seed, and nothing
# that must differ between machines baked in (SSH host keys, machine-id,
# random seeds, the build host's hostname and resolver). Per-profile files
# and runlevel links are not made here; isim-build adds them.
#
# Run once, when the base is made, as mmdebstrap's customize hook:
#   --customize-hook='sh /work/main/bases/debian/customize.sh "$1"'
# It may run chroot "$1". Files it installs are in files/ next to it.
set -eu

root=${1:?usage: customize.sh ROOTFS}
here=$(cd "$(dirname "$0")" && pwd)
files=$here/files

[ -x "$root/sbin/openrc" ] || {
	echo "customize.sh: $root: no /sbin/openrc (is openrc in the package list?)" >&2
	exit 66
}

# put SOURCE MODE DEST: install a file of files/ as root:root.
put() {
	mkdir -p "$root$(dirname "$3")"
	cp "$files/$1" "$root$3.tmp"
	chmod "$2" "$root$3.tmp"
	chown 0:0 "$root$3.tmp"
	mv -f "$root$3.tmp" "$root$3"
}

# runlevel_add SERVICE RUNLEVEL: an OpenRC runlevel link as rc-update makes it
# (absolute, to /etc/init.d).
runlevel_add() {
	mkdir -p "$root/etc/runlevels/$2"
	ln -sfn "/etc/init.d/$1" "$root/etc/runlevels/$2/$1"
}

# --- kernel and boot: isim-build makes its own initramfs and boot loader.
rm -f "$root"/boot/initrd.img* "$root"/initrd.img* "$root"/initrd.img.old
cat >"$root/etc/fstab" <<'EOF'
# infrasim: the root filesystem is the ext4 partition labelled root; it is
# mounted read-write by the initramfs and not checked at boot.
LABEL=root	/	ext4	rw,relatime,errors=remount-ro	0	0
EOF

# --- kernel modules: the generic kernel's drivers of hardware a virtual
# machine never has (graphics, sound, cameras and TV, wireless, Bluetooth,
# InfiniBand, industrial I/O, USB gadgets and serial adapters, physical
# NICs other than those QEMU emulates: intel e1000/e1000e/igb, realtek
# rtl8139, amd pcnet, 8390 ne2k, dec tulip) go: about 230 MB of 390.
for kdir in "$root"/lib/modules/*/; do
	[ -d "$kdir/kernel" ] || continue
	k=$kdir/kernel
	rm -rf "$k/drivers/gpu" "$k/drivers/media" "$k/sound" \
		"$k/drivers/net/wireless" "$k/net/wireless" "$k/net/mac80211" \
		"$k/drivers/bluetooth" "$k/net/bluetooth" "$k/drivers/infiniband" \
		"$k/drivers/iio" "$k/drivers/staging" "$k/drivers/comedi" \
		"$k/drivers/mtd" "$k/drivers/isdn" "$k/drivers/net/can" \
		"$k/drivers/usb/gadget" "$k/drivers/usb/serial" "$k/drivers/net/usb" \
		"$k/drivers/video/fbdev" "$k/lib/test_bpf.ko"
	for v in "$k"/drivers/net/ethernet/*/; do
		case $(basename "$v") in
		intel | realtek | amd | 8390 | dec) ;;
		*) rm -rf "$v" ;;
		esac
	done
	chroot "$root" depmod -a "$(basename "$kdir")"
done

# --- identity: nothing of the build host, nothing unique per machine.
echo localhost >"$root/etc/hostname"
cat >"$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
# No resolver of the build host: dhclient writes the one DHCP gives.
rm -f "$root/etc/resolv.conf"
: >"$root/etc/resolv.conf"
chmod 0644 "$root/etc/resolv.conf"
rm -f "$root/etc/machine-id" "$root/var/lib/dbus/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
rm -f "$root/var/lib/urandom/random-seed" "$root/var/lib/systemd/random-seed"

# --- init: sysvinit's inittab runs "openrc sysinit", then "openrc default"
# (runlevel 2). Debian's LSB boot scripts (initscripts, ifupdown's
# networking, openssh's ssh) cost about 45 s under TCG and do not give the
# OpenRC names the features depend on (localmount, net, sshd); they are
# replaced by the OpenRC scripts of files/, named as on Alpine. The LSB
# shutdown scripts (sendsigs, umountfs, umountroot, halt, reboot) stay.
for s in bootlogs bootmisc.sh brightness checkfs.sh checkroot-bootclean.sh \
	checkroot.sh hostname.sh hwclock.sh kmod mount-configfs \
	mountall-bootclean.sh mountall.sh mountdevsubfs.sh mountkernfs.sh \
	mountnfs-bootclean.sh mountnfs.sh procps rc.local rmnologin urandom \
	ssh networking; do
	rm -f "$root/etc/init.d/$s" "$root"/etc/runlevels/*/"$s" \
		"$root"/etc/rc[0-6S].d/[SK][0-9][0-9]"$s"
done
for s in devfs hwdrivers localmount hostname sysctl bootmisc seedrng syslog \
	acpid networking sshd cloud-init-local cloud-init cloud-config cloud-final; do
	put "$s.initd" 0755 "/etc/init.d/$s"
done
# /etc/rc.conf with only its settings: OpenRC sources it once for each
# init script when it makes its dependency tree, at every boot, and 320
# lines of comments cost a third of a second of that under TCG.
cat >"$root/etc/rc.conf" <<'EOF'
# Global OpenRC configuration (see rc.conf in OpenRC's documentation for
# every setting): the Debian package's settings, without its comments.
rc_loopsolver_enable="YES"
rc_loopsolver_warnings="YES"
rc_tty_number=12
EOF
# OpenRC's services that this base does not run (getty is inittab's, and
# there are no cgroups per service): one script fewer to source each.
rm -f "$root/etc/init.d/agetty" "$root/etc/init.d/cgroups"
# OpenRC's output_log and error_log through dpkg's start-stop-daemon.
put start-stop-daemon.sh 0755 /usr/lib/rc/bin/start-stop-daemon
# sysinit: everything before the default runlevel (Debian's inittab runs
# no "openrc boot"; the boot runlevel stays empty). Not cgroups, as on
# Alpine: OpenRC then sets up no cgroup per service (about 4 s at boot).
rm -f "$root"/etc/runlevels/*/cgroups
# hwdrivers loads the modules of the hardware present (no udev), acpid
# powers off on the ACPI power button (files/acpi-power).
for s in devfs hwdrivers localmount hostname sysctl bootmisc seedrng syslog \
	acpid; do
	runlevel_add "$s" sysinit
done
put acpi-power 0755 /etc/acpi/PWRF/00000080
# default: the network, after the firewall that a profile adds there.
# cloud-init's local stage is not run (see cloud-init-local.initd); the
# other stages are the profile's (its manifest's services).
runlevel_add networking default
rm -f "$root"/etc/runlevels/*/cloud-init-local
# One getty, on tty1; the serial console stays free for the selftest's
# report.
sed -i -e 's/^\([2-6]:23:respawn:\/sbin\/getty\)/#\1/' "$root/etc/inittab"
ln -sfn ../proc/self/mounts "$root/etc/mtab"

# --- network: ifupdown brings up eth0 by DHCP (isc-dhcp-client); no udev,
# so the first NIC keeps its kernel name.
put interfaces.eth0 0644 /etc/network/interfaces.d/eth0

# --- cloud-init: OpenRC scripts for its stages (files/cloud-*.initd, in
# place of Debian's LSB ones); it does not render the network, makes
# Ed25519 and ECDSA host keys only, and restarts the SSH server by its
# OpenRC name (files/cloud.cfg.debian).
put cloud.cfg.debian 0644 /etc/cloud/cloud.cfg.d/05-infrasim-debian.cfg
# The stages in one process, which imports cloud-init once (files/cloud-stage.sh).
put cloud-stage.sh 0644 /usr/lib/infrasim/cloud-stage.sh
put cloud-init-stages 0755 /usr/lib/infrasim/cloud-init-stages
# The system locale is C.UTF-8 (built into glibc): cloud-init's locale
# module then has nothing to generate (its default, en_US.UTF-8, fails
# without locale-gen's data and costs seconds).
echo 'LANG=C.UTF-8' >"$root/etc/default/locale"

# --- leftovers of the build that differ between builds.
rm -f "$root/var/cache/ldconfig/aux-cache" \
	"$root"/var/lib/dpkg/*-old "$root"/var/cache/debconf/*-old \
	"$root"/var/cache/apt/*.bin "$root/var/log/dpkg.log" \
	"$root/var/log/alternatives.log" "$root"/var/log/apt/*
rm -rf "$root"/var/tmp/*
# Not /tmp: mmdebstrap keeps its apt.conf there until after the hook (its
# cleanup then runs apt-get with it), and empties /tmp itself.
