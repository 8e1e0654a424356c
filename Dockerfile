# CPU images of the API and the worker (one build, two targets):
#   docker build --target api -t modelopt-api .      docker build --target worker -t modelopt-worker .
# The runtime base is Debian 13 (trixie): its libstdc++ has GLIBCXX_3.4.32, which LibTorchSharp needs natively.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/ModelOpt.Api -c Release -p:PublishReadyToRun=true -o /out/api \
 && dotnet publish src/ModelOpt.Worker -c Release -p:PublishReadyToRun=true -o /out/worker

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime-base
ENV ModelOpt__Storage__DataRoot=/data \
    ModelOpt__Storage__ArtifactRoot=/artifacts \
    DOTNET_gcServer=0
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
VOLUME ["/artifacts"]

FROM runtime-base AS api
WORKDIR /app
COPY --from=build /out/api .
ENV ASPNETCORE_URLS=http://+:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --retries=6 CMD curl -fs http://localhost:8080/health || exit 1
ENTRYPOINT ["dotnet", "ModelOpt.Api.dll"]

FROM runtime-base AS worker
WORKDIR /app
COPY --from=build /out/worker .
ENTRYPOINT ["dotnet", "ModelOpt.Worker.dll"]
