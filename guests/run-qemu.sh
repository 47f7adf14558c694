#!/bin/sh
# run-qemu.sh IMAGE [qemu args...]
#
# Boot a guest image under QEMU (TCG) with COM1 on stdout and the
# isa-debug-exit device at port 0xF4, and exit with the guest's own exit
# code: QEMU exits with (v << 1) | 1 when the guest writes v to port 0xF4,
# so v = status >> 1 (only v < 128 survives the 8-bit process status).
#
# Exit status: the guest's v; 124 on timeout (TIMEOUT seconds, default 60);
# 125 if QEMU stopped without the guest writing to 0xF4 (e.g. a triple fault
# with -no-reboot) or QEMU itself failed. QEMU's own error status is 1, the
# same as a guest exit(0), so an exit status 1 together with a QEMU error
# message (not a warning) on stderr counts as a QEMU failure.
#
# Extra arguments go to QEMU, e.g.: -smp 4 -append "iters=5"
# Environment: TIMEOUT (seconds), QEMU (binary), MEM (default 128).

if [ $# -lt 1 ]; then
	echo "usage: $0 IMAGE [qemu args...]" >&2
	exit 2
fi
image=$1
shift
if [ ! -r "$image" ]; then
	echo "run-qemu.sh: cannot read $image" >&2
	exit 125
fi

errlog=$(mktemp)
trap 'rm -f "$errlog"' EXIT

timeout "${TIMEOUT:-60}" "${QEMU:-qemu-system-x86_64}" \
	-accel tcg -m "${MEM:-128}" \
	-display none -monitor none -serial stdio -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x4 \
	-kernel "$image" "$@" </dev/null 2>"$errlog"
status=$?
cat "$errlog" >&2

if [ $status -eq 124 ]; then
	echo "run-qemu.sh: timeout after ${TIMEOUT:-60} s" >&2
	exit 124
fi
if [ $status -eq 1 ] && grep -E '^qemu[^:]*: ' "$errlog" | grep -qv ': warning: '; then
	echo "run-qemu.sh: QEMU failed" >&2
	exit 125
fi
if [ $((status & 1)) -eq 1 ]; then
	exit $((status >> 1))
fi
echo "run-qemu.sh: QEMU exited with status $status without a debug-exit write" >&2
exit 125
