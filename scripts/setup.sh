#!/usr/bin/env bash
# setup.sh: installs the Debian 12 packages alcove needs to build, test and benchmark.
# Idempotent: installs only what is missing, and says what it installs.
set -euo pipefail

# setup.sh --group [GROUP]: instead, prepares a host for non-root operators (docs/security.md,
# "The alcove group"): a system group (default alcove), the runtime directory /run/alcove made
# root:GROUP mode 1770 now and at every boot (systemd-tmpfiles), and what /dev/kvm needs. Members
# are added by root: usermod -aG GROUP,kvm USER (effective at their next login).
if [ "${1:-}" = --group ]; then
  group=${2:-alcove}
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: --group must run as root" >&2
    exit 1
  fi
  if ! getent group "$group" > /dev/null; then
    echo "setup: creating the system group $group"
    groupadd --system "$group"
  fi
  conf=/etc/tmpfiles.d/alcove.conf
  echo "setup: $conf makes /run/alcove root:$group 1770 at boot"
  printf '# alcove runtime directory, shared with the members of group %s (scripts/setup.sh --group)\nd /run/alcove 1770 root %s -\nf /run/alcove/allocator.lock 0644 root root -\n' \
    "$group" "$group" > "$conf"
  # now, too: what root's enclaves already keep there stays root's (0600)
  mkdir -p /run/alcove
  chown "root:$group" /run/alcove
  chmod 01770 /run/alcove
  # the allocator's lock is root's (members only lock it): one a member made is replaced
  lock=/run/alcove/allocator.lock
  if [ -L "$lock" ] || { [ -e "$lock" ] && { [ ! -f "$lock" ] || [ "$(stat -c %u "$lock")" != 0 ]; }; }; then
    echo "setup: replacing $lock, which is not root's file"
    rm -rf --one-file-system -- "$lock"
  fi
  if [ ! -e "$lock" ]; then
    # made aside and renamed into place: never written through a link put there meanwhile
    tmp=$(mktemp /run/alcove/.allocator.lock.XXXXXX)
    chmod 0644 "$tmp"
    mv -fT -- "$tmp" "$lock"
  fi
  # leases/ may have been made by a member in the shared directory (a link to /etc, say):
  # only a real directory of root's is kept and put right, anything else is removed first
  leases=/run/alcove/leases
  if [ -L "$leases" ] || { [ -e "$leases" ] && [ "$(stat -c %u "$leases")" != 0 ]; } ||
    { [ -e "$leases" ] && [ ! -d "$leases" ]; }; then
    echo "setup: removing $leases, which is not root's directory"
    rm -rf --one-file-system -- "$leases"
  fi
  if [ -d "$leases" ]; then
    chown -h "root:$group" "$leases"
    chmod 01770 "$leases"
  fi
  # Debian's udev rules give /dev/kvm to group kvm, mode 0660: members need that group too
  if [ -c /dev/kvm ]; then
    kvm_group=$(stat -c %G /dev/kvm)
    echo "setup: /dev/kvm is $(stat -c '%a %U:%G' /dev/kvm): add each operator to both groups:" \
      "usermod -aG $group,$kvm_group USER"
  else
    echo "setup: no /dev/kvm here: members will need read and write access to it (Debian: group kvm)"
  fi
  exit 0
fi

# The system user a root monitor runs as once its enclave is set up (docs/security.md, "A uid of
# the monitor's own"): no home, no shell, no password. Made by every root run of this script;
# `setup.sh --monitor-user` makes only it.
make_monitor_user() {
  local user=alcove-monitor
  if id -u "$user" > /dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: no user $user (a root monitor keeps root's uid without it); run as root to make it" >&2
    return 0
  fi
  echo "setup: making the system user $user, which root's enclave monitors run as"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$user"
}
if [ "${1:-}" = --monitor-user ]; then
  make_monitor_user
  exit 0
fi
make_monitor_user

packages=(
  build-essential   # gcc, make, libc headers
  meson ninja-build pkg-config
  musl-tools        # musl-gcc: static test programs
  libssl-dev        # SHA-384, ECDSA P-384, X.509: EIF measurement and signing
  libcbor-dev       # CBOR: EIF signatures (and attestation documents)
  libcjson-dev      # JSON: EIF metadata, OCI configs, nitro-cli's outputs
  libyaml-dev       # YAML: allocator.yaml, vsock-proxy's allowlist
  libarchive-dev    # tar and gzip: OCI and docker-save archives
  libseccomp-dev libcap-ng-dev  # the monitor's system-call filter and capability drop
  zlib1g-dev libbz2-dev liblzma-dev libzstd-dev nettle-dev  # libarchive's own needs, linked
                                                            # statically with it
  libxml2-dev       # the unit tests write archives, and libarchive's writers need it
  libcmocka-dev     # unit tests
  bats              # integration tests
  clang libclang-rt-14-dev  # libFuzzer targets
  clang-format      # the formatting check in scripts/test.sh
  umoci skopeo      # real OCI and docker-save archives for the image tests (offline)
  openssl           # test keys and certificates
  python3 python3-cryptography  # test helpers: EIFs crafted byte by byte, test certificates
  python3-cbor2     # tests/integration/verify_doc.py: the independent attestation checker
  busybox-static    # real programs nobody here wrote, in test images
  bash-static       # a real shell (static glibc) for tests/integration/busybox.bats
  procps            # pgrep, used by tests to show no process is left behind
  xxd               # hex in the shell tests
  time              # GNU time: the peak memory of a refused 4 GiB image (cli_checks.bats)
  socat             # a host client of the hybrid vsock protocol nobody here wrote (vsock.bats)
  curl              # an HTTP client for servers behind published ports (publish.bats, demo.sh)
  redis-server redis-tools  # a real server behind a published port (publish.bats, bench/net.sh)
  wrk               # an HTTP load generator (bench/net.sh)
  podman            # a container engine driving alcove-oci, the OCI runtime (oci.bats)
  containerd        # containerd 1.6 and ctr: its runc shim driving alcove-oci (oci.bats)
  docker.io         # dockerd 20.10 and docker: Docker driving alcove-oci (docker.bats, which starts
                    # its own dockerd; on a systemd host the package also starts a system one)
  crun              # a plain runtime for bench/oci.sh when runc is absent
  openjdk-17-jdk-headless nodejs  # language runtimes run unmodified in enclaves (dynamic.bats)
  libpython3.11-testsuite  # CPython's own regression tests (scripts/cpython-tests.sh, cpython.bats)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} Debian packages alcove needs are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (or install those packages yourself)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  echo "setup: apt-get install failed; refreshing the package lists and trying again"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "setup: done"
