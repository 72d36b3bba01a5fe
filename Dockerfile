# Vigil's container image: `vigil serve`, alone or as a fleet node (deploy/kubernetes).
#   docker build -t vigil .
# Three stages. `shim` compiles the native shim against Debian's FFmpeg headers; `build` publishes the CLI
# self-contained (the .NET 10 images are Ubuntu-based, so the runtime goes with the app and the shim comes from
# the Debian stage: make finds it up to date); `run` is Debian with FFmpeg's shared libraries only.

FROM debian:bookworm-slim AS shim
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev make pkg-config libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY native/ native/
RUN make -C native OUT=/shim

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Directory.Build.props Vigil.slnx ./
COPY native/ native/
COPY src/ src/
COPY --from=shim /shim/libvigil_media.so native/build/libvigil_media.so
RUN dotnet publish src/Vigil.Cli/Vigil.Cli.csproj -c Release -r linux-x64 --self-contained -o /app -nologo

FROM debian:bookworm-slim AS run
RUN apt-get update \
 && apt-get install -y --no-install-recommends libavformat59 libavcodec59 libavutil57 libswscale6 libswresample4 libssl3 libstdc++6 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1654 --create-home app \
 && install -d -o app -g app -m 0700 /var/lib/vigil
COPY --from=build /app /app
# an unprivileged user; the data folder is the only place it writes
USER app
ENV VIGIL_DATADIR=/var/lib/vigil VIGIL_URLS=http://0.0.0.0:8080
# 8080: REST API, SSE, /metrics, /healthz; 4053: cluster traffic (Akka.Remote); 8558: Akka.Management (bootstrap)
EXPOSE 8080 4053 8558
ENTRYPOINT ["/app/vigil", "serve"]
