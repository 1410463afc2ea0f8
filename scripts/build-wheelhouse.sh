#!/usr/bin/env bash
# Fill a wheelhouse with everything the image build installs besides the project itself:
# the build backend (pyproject's build-system.requires) and the runtime dependencies
# (project.dependencies, and the `postgres` extra the images include: psycopg and its
# binary libpq wheel), as binary wheels for CPython 3.11 on manylinux.
#
# Why: the image build must not need the network. On machines without a container
# registry the base is a stand-in whose trust store and network differ from the host's,
# and a build that reaches PyPI from inside a container is slower and less reproducible.
# The host downloads once (pip's own cache makes reruns cheap); the Dockerfile then
# installs with --no-index from this directory.
#
# Usage: scripts/build-wheelhouse.sh [DIR]   (default: .cache/wheelhouse)
set -euo pipefail

cd "$(dirname "$0")/.."
readonly DIR=${1:-.cache/wheelhouse}
readonly PYTHON=${PYTHON:-python3}
ARCH="$(uname -m)"
readonly ARCH

mapfile -t requirements < <(
    "$PYTHON" - <<'EOF'
import tomllib

with open("pyproject.toml", "rb") as f:
    meta = tomllib.load(f)
extras = meta["project"]["optional-dependencies"]
for req in meta["build-system"]["requires"] + meta["project"]["dependencies"] + extras["postgres"]:
    print(req)
EOF
)

rm -rf "$DIR"
mkdir -p "$DIR"
# Every manylinux tag up to glibc 2.36 (Debian bookworm, the distribution of
# python:3.11-slim and of the stand-in base); pip matches explicit platforms literally.
platforms=()
for glibc in 2_36 2_35 2_34 2_31 2_28 2_27 2_24 2_17 2_12 2_5; do
    platforms+=(--platform "manylinux_${glibc}_$ARCH")
done
platforms+=(--platform "manylinux2014_$ARCH" --platform "manylinux2010_$ARCH")
platforms+=(--platform "manylinux1_$ARCH")

"$PYTHON" -m pip download -qq --disable-pip-version-check \
    --only-binary=:all: \
    --implementation cp --python-version 3.11 --abi cp311 \
    "${platforms[@]}" \
    --dest "$DIR" \
    "${requirements[@]}"
