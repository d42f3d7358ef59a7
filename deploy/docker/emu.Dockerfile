# syntax=docker/dockerfile:1
# Emu, the pipeline's embed-and-upsert worker (a VectorPipeline's Deployment runs this image).
# Build from the repository root:
#   docker build -f deploy/docker/emu.Dockerfile -t vectorblocks/emu:dev .
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${SWIFT_IMAGE} AS build
WORKDIR /build
# Dependencies first, so that a change to the sources does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# The Swift runtime and Foundation linked in: the runtime image needs only glibc, libstdc++ and libgcc_s.
RUN swift build -c release --product emu --static-swift-stdlib
# The binary, the resource bundles it loads next to itself, and the static crash backtracer.
RUN mkdir /staging \
    && cp "$(swift build -c release --show-bin-path)/emu" /staging/ \
    && find -L "$(swift build -c release --show-bin-path)" -maxdepth 1 -name '*.resources' -exec cp -R {} /staging/ \; \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/

FROM ${RUNTIME_IMAGE}
COPY --from=build /staging /app
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static
# distroless's nonroot user, the uid the manifests run it as (runAsUser 65532).
USER 65532:65532
WORKDIR /app
ENTRYPOINT ["/app/emu"]
