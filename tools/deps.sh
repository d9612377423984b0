#!/bin/sh
# Installs the Debian packages tix needs that are missing: the build set for
# `make run`, plus the test set for `make test`. Runs apt-get as root, through
# sudo otherwise, and prints the exact command when it can do neither.
set -eu

build_pkgs="gcc make cmake pkg-config libjansson-dev libsqlite3-dev libsodium-dev libmicrohttpd-dev libgnutls28-dev libpcre2-dev zlib1g-dev libcurl4-gnutls-dev libicu-dev libpsl-dev publicsuffix libpq-dev"
# make test also fuzzes (clang) and lints (cppcheck, clang-tidy); the soak
# (wrk) and the match benchmark's baselines (ripgrep) are sets of their own.
fuzz_pkgs="clang libclang-rt-14-dev"
lint_pkgs="clang libclang-rt-14-dev clang-tidy cppcheck libcmocka-dev python3 git"
# scdoc turns docs/man/*.scd into the man pages (the build, make install).
install_pkgs="scdoc"
# make deb: the Debian packaging tools; test-deb boots the package in a
# debootstrapped bookworm with systemd-nspawn (systemd-container).
deb_pkgs="dpkg-dev debhelper lintian scdoc debootstrap systemd-container"
# The feeds' real consumers (tests/e2e/test_feeds.py): Unbound and dig, named-checkzone,
# nft, ipset, suricata-update's rule parser; unshare (util-linux) makes the namespace.
feed_pkgs="unbound bind9-utils bind9-dnsutils nftables ipset suricata-update iproute2"
# make test-link (tests/e2e/test_link.py): ip netns, veth and tc netem.
link_pkgs="iproute2 python3"
# make bench-footprint: GNU time for tix match's peak RSS, strip (binutils).
bench_footprint_pkgs="time binutils python3"
# The PostgreSQL backend's tests (issue 18) and make run-pg start a real
# server: tools/pg.sh.
pg_pkgs="postgresql libpq-dev"
# The console's browser tests (tests/e2e/test_console.py): Debian's chromium,
# driven by npm's playwright-core (installed by the test with `npm ci` from
# package-lock.json into node_modules/); node and npm only when missing (a
# node from elsewhere brings its own npm, which Debian's would conflict with).
console_pkgs="chromium fonts-dejavu-core"
command -v node >/dev/null 2>&1 || console_pkgs="$console_pkgs nodejs"
command -v npm >/dev/null 2>&1 || console_pkgs="$console_pkgs npm"
# make test installs every set it uses before its suites start, since they
# run side by side and two apt-get runs at once would fight over dpkg's lock.
test_pkgs="libcmocka-dev python3 sqlite3 openssl $pg_pkgs $install_pkgs $fuzz_pkgs $lint_pkgs $deb_pkgs $feed_pkgs $link_pkgs $console_pkgs"
soak_pkgs="wrk curl"
# make bench-feeds: wrk for the conditional GETs, nginx as their baseline.
bench_feeds_pkgs="wrk curl nginx-light"
# make bench-match: ripgrep as a baseline; make bench-scale: gnuplot draws its plot.
bench_pkgs="ripgrep gnuplot-nox"
# make test-arm64 (issue 25): the cross compiler, qemu-user to run what it
# builds, and the arm64 build of every library of the build set (multiarch:
# dpkg learns the arm64 architecture first).
arm64_libs="libjansson-dev libsqlite3-dev libsodium-dev libmicrohttpd-dev libgnutls28-dev libpcre2-dev zlib1g-dev libcurl4-gnutls-dev libicu-dev libpsl-dev libcmocka-dev"
# libpq-dev is not multiarch (its arm64 build would replace the host's):
# the arm64 library alone, with the host's headers (CMakeLists.txt).
arm64_pkgs="crossbuild-essential-arm64 qemu-user python3 libpq-dev libpq5:arm64 $(for p in $arm64_libs; do printf '%s:arm64 ' "$p"; done)"

want="$build_pkgs"
[ "${1:-build}" = "test" ] && want="$build_pkgs $test_pkgs"
[ "${1:-build}" = "fuzz" ] && want="$build_pkgs $fuzz_pkgs"
[ "${1:-build}" = "bench" ] && want="$build_pkgs $bench_pkgs"
[ "${1:-build}" = "lint" ] && want="$build_pkgs $lint_pkgs"
[ "${1:-build}" = "soak" ] && want="$build_pkgs $soak_pkgs"
[ "${1:-build}" = "bench-feeds" ] && want="$build_pkgs $bench_feeds_pkgs"
[ "${1:-build}" = "install" ] && want="$build_pkgs $install_pkgs"
[ "${1:-build}" = "deb" ] && want="$build_pkgs $deb_pkgs"
[ "${1:-build}" = "link" ] && want="$build_pkgs $link_pkgs"
[ "${1:-build}" = "pg" ] && want="$build_pkgs $pg_pkgs"
[ "${1:-build}" = "bench-footprint" ] && want="$build_pkgs $bench_footprint_pkgs"
[ "${1:-build}" = "arm64" ] && want="$build_pkgs $arm64_pkgs"

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "tix: installing missing packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo="sudo"
else
	echo "tix: cannot install packages as $(id -un); run this as root and try again:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
if [ "${1:-build}" = "arm64" ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "tix: adding the arm64 architecture to dpkg (multiarch) for the cross build" >&2
	$sudo dpkg --add-architecture arm64
fi
# A fresh machine has no package lists yet: update first. Another apt-get
# (a second `make` in another checkout) makes this one wait, not fail.
lock="-o DPkg::Lock::Timeout=900"
$sudo apt-get $lock update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get $lock install -y -qq --no-install-recommends $missing >/dev/null
