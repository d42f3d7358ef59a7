# syntax=docker/dockerfile:1
# vectorblocks-backup, which moves a pgvector cluster's backups and WAL to and from S3. It never runs from this image:
# a backup Job's init container runs `vectorblocks-backup install /vectorblocks` to copy it into an emptyDir, and the
# cluster's own PostgreSQL image runs it from there next to pg_basebackup (so the copy needs only glibc and zlib, which
# PostgreSQL itself links).
# Build from the repository root:
#   docker build -f deploy/docker/backup.Dockerfile -t vectorblocks/backup:dev .
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${SWIFT_IMAGE} AS build
# zlib's headers (wal-push's gzip): the Swift images carry them; installed when one does not.
RUN [ -f /usr/include/zlib.h ] || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends zlib1g-dev)
WORKDIR /build
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# The Swift runtime and Foundation linked in, so the binary runs in any glibc image, the PostgreSQL one included.
RUN swift build -c release --product vectorblocks-backup --static-swift-stdlib
# libz.so.1, which distroless's cc image lacks, for `install` to run here; a PostgreSQL image has its own.
RUN mkdir -p /staging/lib && cp "$(swift build -c release --show-bin-path)/vectorblocks-backup" /staging/ \
    && cp -L "$(ls /usr/lib/*-linux-gnu/libz.so.1 /lib/*-linux-gnu/libz.so.1 2>/dev/null | head -1)" /staging/lib/

FROM ${RUNTIME_IMAGE}
COPY --from=build /staging/vectorblocks-backup /usr/local/bin/vectorblocks-backup
COPY --from=build /staging/lib /usr/local/lib/vectorblocks
ENV LD_LIBRARY_PATH=/usr/local/lib/vectorblocks
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/vectorblocks-backup"]
