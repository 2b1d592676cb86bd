# syntax=docker/dockerfile:1
# Warden in two stages: a Rust builder, and a small Debian runtime that runs the binary as the non-root user
# `warden`. Build: docker build -t warden .   Run: docker run -p 8000:8000 warden   (see docker-compose.yml)

# The toolchain CI builds with; the workspace's rust-version (1.85) is the minimum.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src

# Dependencies first, against placeholder sources, so that this slow layer is rebuilt only when the manifests or
# the lock file change. (Every workspace member and declared target must exist for cargo to read the workspace:
# it needs the manifests and a file at each declared path, not their code.)
COPY Cargo.toml Cargo.lock ./
COPY client/Cargo.toml client/Cargo.toml
COPY crates/warden-api/Cargo.toml crates/warden-api/Cargo.toml
COPY crates/warden-core/Cargo.toml crates/warden-core/Cargo.toml
COPY crates/warden-store/Cargo.toml crates/warden-store/Cargo.toml
COPY crates/warden-testkit/Cargo.toml crates/warden-testkit/Cargo.toml
RUN mkdir -p src client/src benches bench crates/warden-api/src crates/warden-core/src crates/warden-store/src crates/warden-testkit/src \
    && echo 'fn main() {}' > src/main.rs \
    && echo 'fn main() {}' > benches/decision.rs \
    && echo 'fn main() {}' > benches/session_wildcards.rs \
    && echo 'fn main() {}' > bench/flood.rs \
    && touch src/lib.rs client/src/lib.rs crates/warden-api/src/lib.rs crates/warden-core/src/lib.rs crates/warden-store/src/lib.rs \
       crates/warden-testkit/src/lib.rs \
    && cargo build --release --locked --bin warden \
    && rm -rf src crates/warden-api/src crates/warden-core/src crates/warden-store/src

# Then Warden itself: its layers (crates/) and the server (src/). Migrations are embedded in the binary at compile
# time (crates/warden-store/build.rs rebuilds when they change).
COPY crates crates
COPY src src
COPY migrations migrations
RUN touch src/main.rs src/lib.rs crates/warden-api/src/lib.rs crates/warden-core/src/lib.rs crates/warden-store/src/lib.rs \
    && cargo build --release --locked --bin warden \
    && cp target/release/warden /usr/local/bin/warden

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 warden \
    && useradd --system --uid 10001 --gid warden --home-dir /var/lib/warden --create-home \
        --shell /usr/sbin/nologin warden

COPY --from=builder /usr/local/bin/warden /usr/local/bin/warden
COPY docker/healthcheck.sh /usr/local/bin/warden-healthcheck

# Listen on every interface inside the container; the SQLite default lives in the warden user's home (a volume).
# With PostgreSQL, set AUTH_DATABASE_URL (docker-compose.yml does).
ENV AUTH_SERVER_HOST=0.0.0.0 \
    AUTH_SERVER_PORT=8000 \
    AUTH_SQLITE_PATH=/var/lib/warden/auth.sqlite3 \
    AUTH_LOG_FORMAT=json

USER warden:warden
WORKDIR /var/lib/warden
VOLUME ["/var/lib/warden"]
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 CMD ["warden-healthcheck"]

# Exec form: warden is PID 1 and receives SIGTERM itself, so `docker stop` shuts it down gracefully.
ENTRYPOINT ["warden"]
CMD ["serve"]
