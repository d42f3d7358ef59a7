# syntax=docker/dockerfile:1
# The VectorBlocks operator (runs in the cluster; deploy/operator.yaml and charts/vectorblocks run this image).
# Build from the repository root:
#   docker build -f deploy/docker/operator.Dockerfile -t vectorblocks/vectorblocks-operator:dev .
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${SWIFT_IMAGE} AS build
# zlib's headers (the WAL archive's gzip): the Swift images carry them; installed when one does not.
RUN [ -f /usr/include/zlib.h ] || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends zlib1g-dev)
WORKDIR /build
# Dependencies first, so that a change to the sources does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# The Swift runtime and Foundation linked in: the runtime image needs only glibc, libstdc++, libgcc_s and libz (copied in).
RUN swift build -c release --product vectorblocks-operator --static-swift-stdlib
# The binary, the resource bundles it loads next to itself, and the static crash backtracer.
RUN mkdir /staging \
    && cp "$(swift build -c release --show-bin-path)/vectorblocks-operator" /staging/ \
    && find -L "$(swift build -c release --show-bin-path)" -maxdepth 1 -name '*.resources' -exec cp -R {} /staging/ \; \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/ \
    && mkdir /staging/lib && cp -L "$(ls /usr/lib/*-linux-gnu/libz.so.1 /lib/*-linux-gnu/libz.so.1 2>/dev/null | head -1)" /staging/lib/

FROM ${RUNTIME_IMAGE}
COPY --from=build /staging /app
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static
# libz.so.1, which distroless's cc image lacks.
ENV LD_LIBRARY_PATH=/app/lib
# distroless's nonroot user, the uid the manifests run it as (runAsUser 65532).
USER 65532:65532
WORKDIR /app
ENTRYPOINT ["/app/vectorblocks-operator"]
