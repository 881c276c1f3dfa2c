# A GPU-host silo: CUDA base image, PyTorch's own libtorch (with CUDA) for the bridge, the models.
# Build from the repository root:  docker build -f docker/gpu-silo.Dockerfile -t actors-gpu-silo .
# Run with the NVIDIA container toolkit:  docker run --gpus all ...
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS dotnet
WORKDIR /src
COPY . .
# self-contained: the CUDA image needs no .NET runtime of its own
RUN dotnet publish Silo/Silo.csproj -c Release -r linux-x64 --self-contained -o /app

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS bridge
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip cmake g++ make \
 && pip3 install --break-system-packages torch --index-url https://download.pytorch.org/whl/cu128 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY native native
COPY scripts scripts
# scripts/build-bridge builds against the libtorch inside the installed PyTorch (TORCH_PYTHON).
RUN TORCH_PYTHON=python3 TORCHBRIDGE_BUILD_DIR=/out scripts/build-bridge

FROM bridge
WORKDIR /app
COPY --from=dotnet /app .
COPY models /app/models
RUN cp /out/libtorchbridge.so /app/
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    Cluster__Roles=gpu \
    Cluster__DataPath=/data \
    Inference__Device=cuda \
    Inference__ModelsPath=/app/models \
    LD_LIBRARY_PATH=/usr/local/lib/python3.12/dist-packages/torch/lib
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/app/Actors.Silo", "--contentRoot", "/app"]
