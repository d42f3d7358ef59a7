# syntax=docker/dockerfile:1
# vectorblocks-backup, which moves a pgvector cluster's backups and WAL to and from S3. It never runs from this image:
# a backup Job's init container runs `vectorblocks-backup install /vectorblocks` to copy it into an emptyDir, and the
# cluster's own PostgreSQL image runs it from there next to pg_basebackup (so the copy needs only glibc).
# Build from the repository root:
#   docker build -f deploy/docker/backup.Dockerfile -t vectorblocks/backup:dev .
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${SWIFT_IMAGE} AS build
WORKDIR /build
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# The Swift runtime and Foundation linked in, so the binary runs in any glibc image, the PostgreSQL one included.
RUN swift build -c release --product vectorblocks-backup --static-swift-stdlib
RUN mkdir /staging && cp "$(swift build -c release --show-bin-path)/vectorblocks-backup" /staging/

FROM ${RUNTIME_IMAGE}
COPY --from=build /staging/vectorblocks-backup /usr/local/bin/vectorblocks-backup
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/vectorblocks-backup"]
