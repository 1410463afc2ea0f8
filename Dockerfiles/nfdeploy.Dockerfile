# The nfdeploy KRM function: ResourceList on stdin, ResourceList on stdout.
#
#   make images    (or, after the base image is built:)
#   docker build -f Dockerfiles/nfdeploy.Dockerfile \
#     --build-arg BASE_IMAGE=ghcr.io/krmfn/base:v0.1.0 -t ghcr.io/krmfn/nfdeploy:v0.1.0 .
#   docker run --rm -i --network none --read-only ghcr.io/krmfn/nfdeploy:v0.1.0 < rl.yaml

ARG BASE_IMAGE=ghcr.io/krmfn/base:v0.1.0
FROM ${BASE_IMAGE}

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="nfdeploy" \
      org.opencontainers.image.description="Fills NFDeployment specs from their Interfaces, DataNetworks, Capacity and Dependencies" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

USER 65534:65534
ENTRYPOINT ["/opt/venv/bin/nfdeploy"]
