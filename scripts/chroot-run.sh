#!/bin/sh
# SPDX-License-Identifier: MIT
#
# chroot-run.sh [--bind DIR] ROOT CMD...: runs CMD as root inside the Debian
# root ROOT with /dev, /dev/pts, /proc and /sys mounted, in a private mount
# namespace, so the mounts go away with the command however it ends (no
# cleanup, nothing left mounted by a killed run). --bind DIR makes DIR
# visible at /src inside. The environment is a clean login-like one.
set -eu
bind=
if [ "${1:-}" = --bind ]; then
	bind=$2
	shift 2
fi
[ $# -ge 2 ] || { echo "usage: $0 [--bind DIR] ROOT CMD..." >&2; exit 2; }
root=$1
shift
# --propagation private would fail when this itself runs in a chroot (make
# fresh-check's make test makes the kernel roots there): "/" is then no mount
# point. So the root is bound onto itself and that mount made private, which
# works at any level.
exec unshare --mount --propagation unchanged -- /bin/sh -euc '
	root=$1 bind=$2
	shift 2
	mount --bind "$root" "$root"
	mount --make-rprivate "$root"
	mount --bind /dev "$root/dev"
	mount --bind /dev/pts "$root/dev/pts"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	if [ -n "$bind" ]; then
		mkdir -p "$root/src"
		mount --bind "$bind" "$root/src"
	fi
	exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive CI="${CI:-}" "$@"
' sh "$root" "$bind" "$@"
