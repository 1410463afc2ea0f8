#!/usr/bin/env bash
# Make `podman run` work as root on this kind of machine (see containers.md):
#   - install podman, runc and debootstrap from Debian when any is missing;
#   - write /etc/containers/containers.conf unless it already holds our settings.
# Idempotent and quiet on success; on failure the captured output is shown.
set -euo pipefail

readonly CONF=/etc/containers/containers.conf
readonly PACKAGES=(podman runc debootstrap)

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

fail() {
    echo "setup-podman: $*" >&2
    cat "$log" >&2
    exit 1
}

if [[ $(id -u) -ne 0 ]]; then
    echo "setup-podman: must run as root" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]})); then
    apt-get update -qq >"$log" 2>&1 || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >"$log" 2>&1 || fail "apt-get install ${missing[*]} failed"
fi

# podman's root default for NOFILE (1048576) is above the hard limit here, and the
# process lacks CAP_SYS_RESOURCE to raise it, so containers would fail in setrlimit.
nofile="$(ulimit -Hn)"
if [[ $nofile == unlimited || $nofile -gt 1048576 ]]; then
    nofile=1048576
fi

has_our_settings() {
    [[ -f $CONF ]] &&
        grep -Eq '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$CONF" &&
        grep -Eq '^[[:space:]]*default_ulimits[[:space:]]*=.*nofile=' "$CONF"
}

if ! has_our_settings; then
    mkdir -p "$(dirname "$CONF")"
    if [[ -f $CONF ]]; then
        cp -p "$CONF" "$CONF.before-krmfn"
        echo "setup-podman: replacing $CONF (previous copy kept as $CONF.before-krmfn)" >&2
    fi
    cat >"$CONF" <<EOF
[containers]
# The hard NOFILE limit on these machines is below podman's root default and
# CAP_SYS_RESOURCE is missing: the default would fail with "setrlimit ... not permitted".
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=32768:32768"]

[engine]
# crun 1.8 rejects the hybrid cgroup layout found here; runc copes with it.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
fi

# A smoke check that needs no image: podman can read its storage and configuration.
podman info >"$log" 2>&1 || fail "podman info failed after setup"
