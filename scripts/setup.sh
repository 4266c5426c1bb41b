#!/usr/bin/env bash
# setup.sh: installs the Debian 12 packages alcove needs to build, test and benchmark.
# Idempotent: installs only what is missing, and says what it installs.
set -euo pipefail

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
  podman            # a container engine driving alcove-oci, the OCI runtime (oci.bats)
  openjdk-17-jdk-headless nodejs  # language runtimes run unmodified in enclaves (dynamic.bats)
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
