# The silo for the api and control roles (no GPU, no libtorch needed).
# Build from the repository root:  docker build -f docker/silo.Dockerfile -t actors-silo .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish Silo/Silo.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
COPY models /app/models
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    Cluster__Roles=api,control \
    Cluster__DataPath=/data \
    Api__ModelsPath=/app/models
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["dotnet", "Actors.Silo.dll", "--contentRoot", "/app"]
