# The shared base of every function image: a virtualenv at /opt/venv holding krmfn (the
# SDK and the catalog, with their console scripts) installed from this checkout, with the
# `postgres` extra (psycopg and its bundled libpq), so that a function can use a ledger on
# a PostgreSQL server.
#
# Build from the repository root (`make images` does all of this):
#   scripts/build-wheelhouse.sh          # dependencies as wheels, into .cache/wheelhouse
#   docker build -f Dockerfiles/base.Dockerfile -t ghcr.io/krmfn/base:v0.1.0 .
#
# Dependencies come from the wheelhouse prepared on the host, never from an index, so the
# build runs with `--network none`: where no registry is reachable the base is a stand-in
# built from Debian packages (scripts/build-base-image.sh) whose network and trust store
# differ from the host's, and an offline build is the same everywhere. The project itself
# is built from the copied sources, not downloaded.
#
# Written for the official python:3.11-slim; it relies on neither Debian's layout nor on a
# system pip, only on `python3 -m venv`, so the stand-in works too.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INDEX=1 \
    PIP_FIND_LINKS=/wheelhouse \
    PYTHONDONTWRITEBYTECODE=1

RUN python3 -m venv /opt/venv

COPY .cache/wheelhouse/ /wheelhouse/
COPY pyproject.toml README.md /src/
COPY sdk /src/sdk
COPY functions /src/functions
COPY fleet /src/fleet

# Install, then strip what a function never needs at run time: the installers, tests,
# documentation, and bytecode compiled against the build-time file times. The bytecode is
# then compiled again with hashes that are not checked against source times, so it stays
# valid whatever times the copy into the final stage gives the files.
RUN /opt/venv/bin/python -m pip install --quiet '/src[postgres]' \
 && /opt/venv/bin/python -m pip uninstall --quiet --yes pip setuptools \
 && rm -f /opt/venv/bin/activate* /opt/venv/bin/Activate.ps1 \
 && find /opt/venv -depth \
        \( -name __pycache__ -o -name tests -o -name test -o -name docs \) \
        -type d -exec rm -rf {} + \
 && find /opt/venv -name '*.pyc' -delete \
 && /opt/venv/bin/python -m compileall -q -j 0 \
        --invalidation-mode unchecked-hash /opt/venv/lib

FROM ${PYTHON_IMAGE}

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="krmfn-base" \
      org.opencontainers.image.description="krmfn SDK and function catalog in a virtualenv" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=build /opt/venv /opt/venv

# Nothing is written at run time: the root filesystem may be mounted read-only.
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    LANG=C.UTF-8

# nobody:nogroup, numeric so that runAsNonRoot checks can verify it.
USER 65534:65534
WORKDIR /
