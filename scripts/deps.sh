#!/bin/sh
# Installs the Debian packages that tocsin's build, tests and benchmarks need.
# Idempotent: when every package is already installed it does nothing and
# touches no network. Runs as root, or through sudo otherwise.
set -eu

PACKAGES="
build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
libjansson-dev libsqlite3-dev sqlite3 libcurl4-gnutls-dev libidn2-dev
libxxhash-dev libpsl-dev publicsuffix libsodium-dev nettle-dev libgmp-dev libmicrohttpd-dev libgnutls28-dev
libcmocka-dev gnutls-bin python3 python3-pytest python3-requests python3-jsonschema
nftables libnftables-dev libnftnl-dev libmnl-dev ipset bind9-utils iproute2 crowdsec-firewall-bouncer crowdsec-custom-bouncer
libldns-dev bind9 bind9-dnsutils unbound
chromium nodejs
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# npm (the browser tests' playwright-core, tests/browser/install.sh): Debian's
# nodejs leaves it to the package npm; a nodejs that bundles it (and
# conflicts with that package) needs nothing more
if ! command -v npm >/dev/null 2>&1; then
    missing="$missing npm"
fi

if [ -z "$missing" ]; then
    exit 0
fi

echo "deps.sh: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
else
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Packages that ship a service (the CrowdSec bouncers) must not start it:
# the tests run them by hand (the firewall bouncer in a network namespace). A policy-rc.d that
# refuses every start is put in place for the install only, unless the
# machine has one already.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
# nor start it at the next boot (it has no hub to talk to)
for unit in crowdsec-firewall-bouncer crowdsec-custom-bouncer; do
    if command -v systemctl >/dev/null 2>&1 && [ -e "/lib/systemd/system/$unit.service" ]; then
        $SUDO systemctl disable --quiet "$unit.service" 2>/dev/null || true
    fi
done
