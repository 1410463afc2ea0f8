#!/usr/bin/env bash
# Provide a stand-in for the official python:3.11-slim image to podman on a machine that
# reaches no container registry (see containers.md):
#   1. nothing to do when localhost/python-base:bookworm is already in podman's storage;
#   2. else load it from the gzipped tarball cached by an earlier run;
#   3. else build it from Debian packages with debootstrap and cache the tarball.
# The image is tagged python:3.11-slim and docker.io/library/python:3.11-slim too, so the
# Dockerfiles written for the official image build against it with --pull=never.
set -euo pipefail

readonly IMAGE=localhost/python-base:bookworm
readonly ALIASES=(python:3.11-slim docker.io/library/python:3.11-slim)
readonly SUITE=bookworm
readonly MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# python3-venv brings ensurepip, so the Dockerfiles can make a virtualenv with its own pip.
readonly INCLUDE=python3,python3-venv
readonly CACHE_DIR=${KRMFN_CACHE:-/var/cache/krmfn}
readonly TARBALL=$CACHE_DIR/python-base-$SUITE.tar.gz

say() { echo "build-base-image: $*" >&2; }

tag_aliases() {
    local alias
    for alias in "${ALIASES[@]}"; do
        podman tag "$IMAGE" "$alias"
    done
}

aliases_present() {
    local alias
    for alias in "${ALIASES[@]}"; do
        podman image exists "$alias" || return 1
    done
}

if podman image exists "$IMAGE"; then
    aliases_present || tag_aliases
    exit 0
fi

if [[ -s $TARBALL ]]; then
    say "loading $IMAGE from $TARBALL"
    # podman 4.3 does not decompress a docker-archive itself, hence the pipe.
    if gzip -dc "$TARBALL" | podman load --quiet >/dev/null && podman image exists "$IMAGE"; then
        tag_aliases
        exit 0
    fi
    say "the cached tarball could not be loaded; building afresh"
    rm -f "$TARBALL"
fi

for tool in debootstrap chroot tar; do
    command -v "$tool" >/dev/null || { say "$tool is missing (run scripts/setup-podman.sh)"; exit 1; }
done

workdir="$(mktemp -d "${TMPDIR:-/tmp}/python-base.XXXXXX")"
trap 'rm -rf "$workdir"' EXIT
rootfs=$workdir/rootfs

say "building $IMAGE with debootstrap ($SUITE, $INCLUDE)"
if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$rootfs" "$MIRROR" \
    >"$workdir/debootstrap.log" 2>&1; then
    say "debootstrap failed:"
    tail -n 40 "$workdir/debootstrap.log" >&2
    exit 1
fi

# Trim what a runtime image never needs: package lists, caches, docs, locales.
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
    "$rootfs"/usr/share/{doc,man,info,locale,lintian}/*

tar --numeric-owner -C "$rootfs" -c . |
    podman import --quiet \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/usr/bin/python3"]' \
        - "$IMAGE" >/dev/null
tag_aliases

# Cache for the next run on this machine; a failure here must not fail the build.
if mkdir -p "$CACHE_DIR" 2>/dev/null &&
    podman save --quiet "$IMAGE" | gzip -1 >"$TARBALL.tmp"; then
    mv "$TARBALL.tmp" "$TARBALL"
    say "cached $TARBALL ($(du -h "$TARBALL" | cut -f1))"
else
    rm -f "$TARBALL.tmp"
    say "could not write the cache $TARBALL (continuing)"
fi
