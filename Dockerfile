# netpulse container image: one runtime image holding every process; the command picks it
# (netpulse-worker, netpulse-coordinator, netpulse-gateway, netpulse-generator, netpulse-detect,
# netpulse-ingest).
#
#   podman build --network host -t netpulse:0.1.0 .     (infra/images.sh does this, see README)
#   docker build -t netpulse:0.1.0 .
#
# Runs as the numeric non-root user 10001 and needs no writable path (read-only root
# filesystem is fine: processes log to stderr, state lives in Redis, the optional
# --http-port-file should point at a mounted emptyDir).

# ---- build stage: compilers and -dev packages stay here ----
FROM debian:bookworm-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      cmake ninja-build gcc libc6-dev make pkg-config \
      librdkafka-dev libzmq3-dev libprotobuf-c-dev protobuf-c-compiler \
      libhiredis-dev libmicrohttpd-dev libcurl4-openssl-dev libpcap-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY proto/ proto/
COPY lib/ lib/
COPY generator/ generator/
COPY worker/ worker/
COPY coordinator/ coordinator/
COPY gateway/ gateway/
COPY detect/ detect/
COPY ingest/ ingest/
COPY bench/ bench/
COPY tools/kdd/ tools/kdd/
COPY tools/keygen.c tools/keygen.c
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNP_BUILD_TESTS=OFF -DNP_WERROR=ON \
 && cmake --build build --target netpulse-generator netpulse-worker netpulse-coordinator \
      netpulse-gateway netpulse-detect netpulse-ingest netpulse-keygen \
 && install -d /out \
 && install -m 0755 build/netpulse-* /out/ \
 && strip --strip-debug /out/netpulse-*

# ---- runtime stage: shared libraries only ----
FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
ARG NETPULSE_VERSION=0.1.0
ARG NETPULSE_REVISION=unknown
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      librdkafka1 libzmq5 libprotobuf-c1 libhiredis0.14 libmicrohttpd12 libcurl4 libpcap0.8 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY --from=build /out/ /usr/local/bin/
# The NSL-KDD intrusion model (docs/intrusion.md): --kdd-model /usr/local/share/netpulse/kdd-rf.model
COPY models/kdd-rf.model /usr/local/share/netpulse/kdd-rf.model
LABEL org.opencontainers.image.title="netpulse" \
      org.opencontainers.image.description="Real-time network traffic analysis: generator, worker, coordinator, gateway, detect, ingest" \
      org.opencontainers.image.version="${NETPULSE_VERSION}" \
      org.opencontainers.image.revision="${NETPULSE_REVISION}" \
      org.opencontainers.image.base.name="debian:bookworm-slim"
USER 10001:10001
WORKDIR /
# Every process checkpoints and exits 0 on SIGTERM (the final checkpoint needs the grace period).
STOPSIGNAL SIGTERM
EXPOSE 8080
CMD ["netpulse-worker", "--help"]
