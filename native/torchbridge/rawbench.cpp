// The baseline for bench/Inference.Bench: a plain C++ loop over libtorch doing what one
// engine call does (host input -> device, forward, output -> host), with no bridge and
// no .NET. Prints one JSON line.
//
//   torchbridge_rawbench MODEL DEVICE BATCH ITERATIONS WARMUP THREADS INPUT...
//   INPUT is the per-item shape and dtype, e.g. 1x128x128:f32, or :i64:1000 for a
//   scalar-per-item int64 input drawn below 1000 (the diffusion timestep).
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>
#include <ATen/Parallel.h>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct InputSpec {
    std::vector<int64_t> shape;
    bool is_int = false;
    int64_t int_bound = 1;
};

InputSpec parse(const std::string& text, int64_t batch) {
    InputSpec spec;
    spec.shape.push_back(batch);
    auto colon = text.find(':');
    std::string dims = text.substr(0, colon), rest = colon == std::string::npos ? "f32" : text.substr(colon + 1);
    std::stringstream ds(dims);
    std::string d;
    while (std::getline(ds, d, 'x'))
        if (!d.empty()) spec.shape.push_back(std::stoll(d));
    if (rest.rfind("i64", 0) == 0) {
        spec.is_int = true;
        auto c2 = rest.find(':');
        spec.int_bound = c2 == std::string::npos ? 1 : std::stoll(rest.substr(c2 + 1));
    }
    return spec;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 8) {
        std::fprintf(stderr, "usage: %s MODEL DEVICE BATCH ITERATIONS WARMUP THREADS INPUT...\n", argv[0]);
        return 2;
    }
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
    try {
        std::string path = argv[1];
        torch::Device device{std::string(argv[2])};
        int64_t batch = std::stoll(argv[3]);
        int iterations = std::stoi(argv[4]), warmup = std::stoi(argv[5]), threads = std::stoi(argv[6]);
        if (threads > 0) at::set_num_threads(threads);
        std::vector<InputSpec> specs;
        for (int i = 7; i < argc; ++i) specs.push_back(parse(argv[i], batch));

        auto module = torch::jit::load(path, device);
        module.eval();
        c10::InferenceMode guard;
        std::vector<at::Tensor> host;
        for (auto& s : specs)
            host.push_back(s.is_int ? torch::randint(0, s.int_bound, s.shape, torch::kLong) : torch::rand(s.shape));

        std::vector<double> latencies;
        latencies.reserve(static_cast<size_t>(iterations));
        auto begin = std::chrono::steady_clock::now();
        for (int i = -warmup; i < iterations; ++i) {
            if (i == 0) begin = std::chrono::steady_clock::now();
            auto start = std::chrono::steady_clock::now();
            std::vector<c10::IValue> args;
            for (auto& h : host) args.emplace_back(device.is_cpu() ? h : h.to(device));
            auto out = module.forward(args).toTensor().to(torch::kCPU).contiguous();
            if (out.numel() == 0) return 3;
            auto end = std::chrono::steady_clock::now();
            if (i >= 0) latencies.push_back(std::chrono::duration<double, std::milli>(end - start).count());
        }
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
        std::printf(
            "{\"torch\":\"%s\",\"device\":\"%s\",\"batch\":%lld,\"iterations\":%d,\"threads\":%d,"
            "\"items_per_s\":%.3f,\"p50_ms\":%.4f,\"p99_ms\":%.4f}\n",
            TORCH_VERSION, device.str().c_str(), static_cast<long long>(batch), iterations, at::get_num_threads(),
            static_cast<double>(batch) * iterations / seconds, percentile(latencies, 0.5),
            percentile(latencies, 0.99));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rawbench: %s\n", e.what());
        return 1;
    }
}
