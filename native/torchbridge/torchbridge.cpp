// The C ABI of torchbridge.h over libtorch. No exception crosses the boundary: each
// entry point catches everything and turns it into a tb_status plus a message.
#include "torchbridge.h"
#include "tf32_gate.h"

#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <c10/core/Event.h>

#ifdef TB_WITH_CUDA
// A CUDA libtorch with the CUDA runtime's headers (scripts/build-bridge): CUDA graphs, a
// copy stream per module, pinned staging.
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#define TB_BRIDGE_VERSION "1.4.0"

namespace tb_detail {

// One captured CUDA graph: the fixed device buffers its kernels read (batched inputs padded
// to the graph's rows, and unbatched ones such as alpha-bar) and the outputs they write.
struct GraphEntry {
    std::mutex lock;
    bool failed = false;
    std::atomic<bool> captured{false};
#ifdef TB_WITH_CUDA
    std::unique_ptr<at::cuda::CUDAGraph> graph;
#endif
    std::vector<at::Tensor> inputs;
    std::vector<at::Tensor> fixed;       // on the device
    std::vector<at::Tensor> fixed_host;  // what `fixed` was made from, to check later calls
    std::vector<at::Tensor> outputs;
};

// A module's graphs, one per padded shape (tb_module_use_cuda_graphs); past `limit` shapes
// (inputs of many other shapes), new shapes run eagerly.
struct GraphCache {
    static constexpr size_t limit = 64;
    int64_t max_batch = 0;
    std::mutex lock;
    std::map<std::string, std::shared_ptr<GraphEntry>> entries;
    std::string failure;
#ifdef TB_WITH_CUDA
    // Captures run one at a time per module, on a stream of the module's own: a stream from
    // libtorch's pool may be another module's copy stream, whose copies would then be
    // captured into this graph instead of running.
    std::mutex capturing;
    cudaStream_t capture_stream = nullptr;
    ~GraphCache() {
        entries.clear();
        if (capture_stream != nullptr) cudaStreamDestroy(capture_stream);
    }
#endif
};

// The module's own CUDA stream for host-to-device copies, made at first use.
struct CopyStream {
    std::mutex lock;
#ifdef TB_WITH_CUDA
    std::optional<c10::cuda::CUDAStream> stream;
#endif
};

}  // namespace tb_detail

struct tb_module {
    torch::jit::script::Module module;
    torch::Device device;
    std::string device_name;
    int32_t precision = TB_PRECISION_FP32;
    bool channels_last = false;
    std::unique_ptr<tb_detail::GraphCache> graphs;
    tb_detail::CopyStream copies;
};

struct tb_outputs {
    std::vector<at::Tensor> tensors;
    std::vector<std::vector<int64_t>> shapes;
};

namespace {

using tb_detail::GraphCache;
using tb_detail::GraphEntry;

thread_local std::string last_error;
thread_local std::string graph_failure;

// TorchScript errors are long tracebacks whose cause is the last "XxxError: ..." line;
// put that line first so callers can show one line and keep the rest as detail.
std::string first_line_first(const std::string& message) {
    std::istringstream lines(message);
    std::string line, cause, first;
    while (std::getline(lines, line)) {
        if (first.empty() && line.find_first_not_of(" \t\r") != std::string::npos) first = line;
        auto colon = line.find("Error: ");
        if (colon != std::string::npos && colon > 0 && line[0] != ' ') cause = line;
    }
    std::string head = cause.empty() ? first : cause;
    if (head.empty()) return message;
    if (head == message) return message;
    return head + "\n" + message;
}

tb_status fail(tb_status status, const std::string& message) {
    last_error = first_line_first(message);
    return status;
}

tb_status fail(tb_status status, const c10::Error& e) {
    return fail(status, e.what_without_backtrace());
}

bool to_scalar_type(int32_t dtype, at::ScalarType* out) {
    switch (dtype) {
        case TB_FLOAT32: *out = at::kFloat; return true;
        case TB_INT64: *out = at::kLong; return true;
        default: return false;
    }
}

void collect(const c10::IValue& value, std::vector<at::Tensor>& into) {
    if (value.isTensor()) {
        into.push_back(value.toTensor());
    } else if (value.isTuple()) {
        for (const auto& element : value.toTupleRef().elements()) collect(element, into);
    } else if (value.isTensorList()) {
        for (const at::Tensor& t : value.toTensorVector()) into.push_back(t);
    } else if (value.isList()) {
        for (const c10::IValue& element : value.toListRef()) collect(element, into);
    } else {
        throw std::invalid_argument("the model returned a " + value.tagKind() +
                                    "; only tensors, tuples and lists of tensors are supported");
    }
}

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(c10::DeviceType type) { return at::autocast::is_autocast_enabled(type); }
void set_autocast(c10::DeviceType type, bool on) { at::autocast::set_autocast_enabled(type, on); }
at::ScalarType autocast_dtype(c10::DeviceType type) { return at::autocast::get_autocast_dtype(type); }
void set_autocast_dtype(c10::DeviceType type, at::ScalarType dtype) { at::autocast::set_autocast_dtype(type, dtype); }
#else
bool autocast_enabled(c10::DeviceType type) {
    return type == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void set_autocast(c10::DeviceType type, bool on) {
    if (type == c10::DeviceType::CUDA) at::autocast::set_enabled(on); else at::autocast::set_cpu_enabled(on);
}
at::ScalarType autocast_dtype(c10::DeviceType type) {
    return type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_dtype(c10::DeviceType type, at::ScalarType dtype) {
    if (type == c10::DeviceType::CUDA) at::autocast::set_autocast_gpu_dtype(dtype); else at::autocast::set_autocast_cpu_dtype(dtype);
}
#endif

bool is_autocast(int32_t precision) {
    return precision == TB_PRECISION_BF16_AUTOCAST || precision == TB_PRECISION_FP16_AUTOCAST;
}

bool is_cast(int32_t precision) { return precision == TB_PRECISION_BF16 || precision == TB_PRECISION_FP16; }

at::ScalarType lower_type(int32_t precision) {
    return precision == TB_PRECISION_BF16_AUTOCAST || precision == TB_PRECISION_BF16 ? at::kBFloat16 : at::kHalf;
}

const char* precision_name(int32_t precision) {
    switch (precision) {
        case TB_PRECISION_FP32: return "fp32";
        case TB_PRECISION_TF32: return "tf32";
        case TB_PRECISION_BF16_AUTOCAST: return "bf16-autocast";
        case TB_PRECISION_FP16_AUTOCAST: return "fp16-autocast";
        case TB_PRECISION_BF16: return "bf16";
        case TB_PRECISION_FP16: return "fp16";
        default: return nullptr;
    }
}

// The process's TF32 gate (tf32_gate.h): sets libtorch's flags for cuBLAS and cuDNN.
tb_detail::Tf32Gate& tf32_gate() {
    static tb_detail::Tf32Gate gate([](bool tf32) {
        at::globalContext().setAllowTF32CuBLAS(tf32);
        at::globalContext().setAllowTF32CuDNN(tf32);
    });
    return gate;
}

// The module's precision for the duration of one forward. Autocast state is thread-local
// (set and restored here); TF32 is held through the TF32 gate on CUDA, so two models of
// different precisions forwarding at once on one host each launch with their own setting.
class PrecisionScope {
public:
    explicit PrecisionScope(const tb_module& m) : type_(m.device.type()), autocast_(is_autocast(m.precision)) {
        if (autocast_) {
            was_enabled_ = autocast_enabled(type_);
            was_dtype_ = autocast_dtype(type_);
            set_autocast(type_, true);
            set_autocast_dtype(type_, lower_type(m.precision));
            at::autocast::increment_nesting();
        }
        if (m.device.is_cuda()) {  // last: nothing after it may throw and leave the gate held
            tf32_gate().enter(m.precision == TB_PRECISION_TF32);
            gated_ = true;
        }
    }
    ~PrecisionScope() {
        if (autocast_) {
            if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
            set_autocast(type_, was_enabled_);
            set_autocast_dtype(type_, was_dtype_);
        }
        if (gated_) tf32_gate().leave();
    }
    PrecisionScope(const PrecisionScope&) = delete;
    PrecisionScope& operator=(const PrecisionScope&) = delete;

private:
    c10::DeviceType type_;
    bool autocast_;
    bool gated_ = false;
    bool was_enabled_ = false;
    at::ScalarType was_dtype_ = at::kFloat;
};

#ifdef TB_WITH_CUDA
c10::DeviceIndex device_index(const tb_module& m) {
    return m.device.has_index() ? m.device.index() : c10::cuda::current_device();
}

c10::cuda::CUDAStream copy_stream(tb_module& m) {
    std::lock_guard<std::mutex> hold(m.copies.lock);
    if (!m.copies.stream) m.copies.stream = c10::cuda::getStreamFromPool(false, device_index(m));
    return *m.copies.stream;
}

// A host tensor copied into pinned memory (so the copy to the GPU is asynchronous). The
// caching host allocator keeps the block until the copies that read it have finished.
at::Tensor pinned_copy(const at::Tensor& host) {
    at::Tensor pinned = at::empty(host.sizes(), host.options().pinned_memory(true));
    pinned.copy_(host);
    return pinned;
}

// A host tensor on the module's GPU: staged in pinned memory and copied on the module's copy
// stream, so that it overlaps the compute of a batch already running; the compute stream
// waits for the copy by an event, and the allocator is told the tensor is used there.
at::Tensor to_gpu(tb_module& m, const at::Tensor& host) {
    at::Tensor pinned = pinned_copy(host);
    c10::cuda::CUDAStream compute = c10::cuda::getCurrentCUDAStream(device_index(m));
    c10::cuda::CUDAStream copy = copy_stream(m);
    at::Tensor device;
    {
        c10::cuda::CUDAStreamGuard guard(copy);
        device = pinned.to(m.device, /*non_blocking=*/true);
    }
    c10::Event copied(c10::DeviceType::CUDA);
    copied.record(copy);
    copied.block(compute);
    c10::cuda::CUDACachingAllocator::recordStream(device.storage().data_ptr(), compute);
    return device;
}
#endif

at::Tensor to_device(tb_module& m, const at::Tensor& host) {
#ifdef TB_WITH_CUDA
    if (m.device.is_cuda()) return to_gpu(m, host);
#endif
    return host.to(m.device);
}

// A caller's input on the module's device, in the module's input type and memory order.
at::Tensor place(tb_module& m, at::Tensor t) {
    if (!m.device.is_cpu() && t.is_cpu()) t = to_device(m, t);
    if (t.is_floating_point() && is_cast(m.precision)) t = t.to(lower_type(m.precision));
    if (m.channels_last && t.dim() == 4 && t.is_floating_point()) t = t.contiguous(at::MemoryFormat::ChannelsLast);
    return t;
}

// Borrows a caller's tensor for the duration of a call (no copy on the host).
tb_status borrow(const tb_tensor& in, int32_t i, at::Tensor* out) {
    at::ScalarType type;
    if (!to_scalar_type(in.dtype, &type))
        return fail(TB_ERROR_ARGUMENT, "input " + std::to_string(i) + ": unknown dtype code " + std::to_string(in.dtype));
    if (in.ndim < 0 || (in.ndim > 0 && in.shape == nullptr) || in.data == nullptr)
        return fail(TB_ERROR_ARGUMENT, "input " + std::to_string(i) + ": shape and data are required");
    std::vector<int64_t> shape(in.shape, in.shape + in.ndim);
    *out = torch::from_blob(const_cast<void*>(in.data), shape, torch::TensorOptions().dtype(type));
    return TB_OK;
}

std::vector<at::Tensor> run(tb_module& m, std::vector<c10::IValue>& args) {
    c10::IValue result;
    {
        PrecisionScope scope(m);
        result = m.module.forward(args);
    }
    std::vector<at::Tensor> tensors;
    collect(result, tensors);
    return tensors;
}


// The model returned something the call cannot use (TB_ERROR_OUTPUT).
struct OutputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A graph capture failed (the warm-up runs before it succeeded): that shape runs eagerly.
struct CaptureError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A computation over device tensors: the batched inputs (rows first) and the unbatched ones.
using Body = std::function<std::vector<at::Tensor>(const std::vector<at::Tensor>&, const std::vector<at::Tensor>&)>;

#ifdef TB_WITH_CUDA
// What a graph is specialised to: the kind of call, the padded rows and every input's dtype
// and other dimensions.
std::string graph_key(const char* kind, int64_t rows, const std::vector<at::Tensor>& batched,
                      const std::vector<at::Tensor>& fixed) {
    std::ostringstream key;
    key << kind << " rows " << rows;
    for (const auto* list : {&batched, &fixed}) {
        key << " /";
        for (const at::Tensor& t : *list) {
            key << ' ' << c10::toString(t.scalar_type());
            for (int64_t d = list == &batched ? 1 : 0; d < t.dim(); ++d) key << ',' << t.size(d);
        }
    }
    return key.str();
}

bool same_host(const at::Tensor& a, const at::Tensor& b) {
    return a.scalar_type() == b.scalar_type() && a.sizes() == b.sizes() &&
           std::memcmp(a.data_ptr(), b.data_ptr(), static_cast<size_t>(a.nbytes())) == 0;
}

// The call's rows into the graph's fixed input buffers, through pinned memory, on the
// compute stream (the graph replays there, after the copies). The rows past the call's are
// set to pad[i] where `pad` is given (state that must not carry over from an earlier call);
// else they keep what they held: computed and dropped.
void stage(const std::vector<at::Tensor>& host, const std::vector<double>& pad, GraphEntry& entry) {
    for (size_t i = 0; i < host.size(); ++i) {
        at::Tensor& buffer = entry.inputs[i];
        const int64_t rows = host[i].size(0);
        buffer.narrow(0, 0, rows).copy_(pinned_copy(host[i].contiguous()), /*non_blocking=*/true);
        if (!pad.empty() && rows < buffer.size(0)) buffer.narrow(0, rows, buffer.size(0) - rows).fill_(pad[i]);
    }
}

// Captures `body` over the entry's buffers on the module's capture stream, after three warm-up runs there
// (TorchScript's profiling runs and fusions, cuDNN and cuBLAS set-up happen outside the
// capture), with autocast's weight cache off as capture requires. Other threads' work on the
// device may go on meanwhile (thread-local capture mode). A warm-up's error propagates as it
// is (the model fails on these inputs); a capture's becomes a CaptureError.
void capture(tb_module& m, GraphEntry& entry, const Body& body) {
    const c10::DeviceIndex index = device_index(m);
    GraphCache& cache = *m.graphs;
    std::lock_guard<std::mutex> one_at_a_time(cache.capturing);
    if (cache.capture_stream == nullptr) {
        c10::cuda::CUDAGuard on_device(index);
        C10_CUDA_CHECK(cudaStreamCreateWithFlags(&cache.capture_stream, cudaStreamNonBlocking));
    }
    c10::cuda::CUDAStream compute = c10::cuda::getCurrentCUDAStream(index);
    c10::cuda::CUDAStream side = c10::cuda::getStreamFromExternal(cache.capture_stream, index);
    c10::Event ready(c10::DeviceType::CUDA);
    ready.record(compute);
    ready.block(side);
    {
        c10::cuda::CUDAStreamGuard guard(side);
        for (int i = 0; i < 3; ++i) body(entry.inputs, entry.fixed);
        const bool cache = at::autocast::is_autocast_cache_enabled();
        at::autocast::set_autocast_cache_enabled(false);
        auto graph = std::make_unique<at::cuda::CUDAGraph>();
        try {
#if TORCH_VERSION_MAJOR >= 2
            graph->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
#else
            graph->capture_begin();
#endif
            entry.outputs = body(entry.inputs, entry.fixed);
            graph->capture_end();
        } catch (...) {
            at::autocast::set_autocast_cache_enabled(cache);
            entry.outputs.clear();
            // A capture that failed half way is still open on the side stream: close it.
            cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
            if (cudaStreamIsCapturing(side.stream(), &status) == cudaSuccess && status != cudaStreamCaptureStatusNone) {
                cudaGraph_t broken = nullptr;
                if (cudaStreamEndCapture(side.stream(), &broken) == cudaSuccess && broken != nullptr)
                    cudaGraphDestroy(broken);
            }
            (void)cudaGetLastError();
            try {
                throw;
            } catch (const c10::Error& e) {
                throw CaptureError(e.what_without_backtrace());
            } catch (const std::exception& e) {
                throw CaptureError(e.what());
            } catch (...) {
                throw CaptureError("unknown C++ exception during capture");
            }
        }
        at::autocast::set_autocast_cache_enabled(cache);
        entry.graph = std::move(graph);
        entry.captured = true;
    }
    c10::Event done(c10::DeviceType::CUDA);
    done.record(side);
    done.block(compute);
}
#endif

#ifdef TB_WITH_CUDA
// The rows a batch is padded to for a graph: powers of two up to 8, then eight sizes per
// doubling (10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, ...), at most max_batch. Above 8
// rows a batch computes at most a quarter more rows than it has; up to 64 rows, 16 shapes.
int64_t padded_rows(int64_t rows, int64_t max_batch) {
    int64_t padded = 1;
    while (padded < rows) padded *= 2;
    if (padded > 8) {
        const int64_t step = padded / 8;
        padded = (rows + step - 1) / step * step;
    }
    return std::min(padded, max_batch);
}
#endif

// Runs `body` through the module's CUDA graph for this shape (capturing it at its first call),
// `replays` times in a row (a sampling run replays its one-step graph once per step), and
// puts the outputs, cut to the call's rows, in `out`. False when the call runs eagerly
// instead: no graphs on this module, more rows than max_batch, inputs without a common first
// dimension, unbatched inputs other than the graph's, or a capture that failed.
bool run_graphed(tb_module& m, const char* kind, const std::vector<at::Tensor>& batched,
                 const std::vector<at::Tensor>& fixed, const std::vector<double>& pad, int64_t replays,
                 const Body& body, std::vector<at::Tensor>& out) {
#ifdef TB_WITH_CUDA
    GraphCache* cache = m.graphs.get();
    if (cache == nullptr || batched.empty() || batched[0].dim() < 1 || replays < 1) return false;
    const int64_t rows = batched[0].size(0);
    if (rows < 1 || rows > cache->max_batch) return false;
    for (const at::Tensor& t : batched)
        if (t.dim() < 1 || t.size(0) != rows) return false;
    const int64_t padded = padded_rows(rows, cache->max_batch);
    const std::string key = graph_key(kind, padded, batched, fixed);
    std::shared_ptr<GraphEntry> entry;
    {
        std::lock_guard<std::mutex> hold(cache->lock);
        auto found = cache->entries.find(key);
        if (found == cache->entries.end()) {
            if (cache->entries.size() >= GraphCache::limit) return false;
            found = cache->entries.emplace(key, std::make_shared<GraphEntry>()).first;
        }
        entry = found->second;
    }
    std::lock_guard<std::mutex> hold(entry->lock);
    if (entry->failed) return false;
    if (!entry->graph) {
        for (const at::Tensor& t : batched) {
            std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
            shape[0] = padded;
            entry->inputs.push_back(at::zeros(shape, t.options().device(m.device)));
        }
        for (const at::Tensor& t : fixed) {
            entry->fixed_host.push_back(t.clone());
            entry->fixed.push_back(t.to(m.device));
        }
        stage(batched, pad, *entry);
        try {
            capture(m, *entry, body);
        } catch (const CaptureError& e) {
            entry->failed = true;
            entry->inputs.clear();
            entry->fixed.clear();
            std::lock_guard<std::mutex> hold_cache(cache->lock);
            if (cache->failure.empty()) cache->failure = key + ": " + first_line_first(e.what()).substr(0, 400);
            return false;
        } catch (...) {
            // The warm-up failed: the model fails on these inputs. The next call tries again.
            entry->inputs.clear();
            entry->fixed.clear();
            entry->fixed_host.clear();
            throw;
        }
    } else {
        for (size_t i = 0; i < fixed.size(); ++i)
            if (!same_host(fixed[i], entry->fixed_host[i])) return false;
    }
    // Staged (again, after a capture: its warm-up runs may have changed state buffers in place).
    stage(batched, pad, *entry);
    for (int64_t i = 0; i < replays; ++i) entry->graph->replay();
    out.clear();
    for (const at::Tensor& o : entry->outputs)
        out.push_back(o.dim() > 0 && o.size(0) == padded ? o.narrow(0, 0, rows).clone() : o.clone());
    return true;
#else
    (void)m, (void)kind, (void)batched, (void)fixed, (void)pad, (void)replays, (void)body, (void)out;
    return false;
#endif
}

// One DDIM step of a sampling run, in place on its state: in[0] x (the sample so far), in[1]
// the schedule (column 0 each row's timestep for this step, column 1 the next one's, -1 "no
// more steps"), in[2...n-2] the model's other inputs, in[n-1] x0 (the latest estimate); abar
// is alpha-bar with 1.0 appended (index `timesteps`: after the last step). Afterwards the
// schedule is rotated one column to the left, so the same step, run eagerly or replayed from
// one CUDA graph, takes a run through all its steps. A row whose column 0 is -1 keeps its x
// and x0. Returns {x0}.
std::vector<at::Tensor> ddim_step(tb_module& m, const std::vector<at::Tensor>& in, const at::Tensor& abar,
                                  int64_t timesteps) {
    const at::Tensor& x = in[0];
    const at::Tensor& sched = in[1];
    const at::Tensor& x0 = in.back();
    std::vector<int64_t> view(static_cast<size_t>(x.dim()), 1);
    view[0] = x.size(0);
    auto alpha = [&](const at::Tensor& t) {
        return abar.index_select(0, torch::where(t < 0, torch::full_like(t, timesteps), t)).view(view);
    };
    at::Tensor t = sched.select(1, 0);
    at::Tensor active = (t >= 0).view(view);
    at::Tensor a = alpha(t), prev = alpha(sched.select(1, 1));
    std::vector<c10::IValue> args(in.size() - 1);
    args[0] = place(m, x);
    args[1] = t.clamp_min(0);
    for (size_t i = 2; i + 1 < in.size(); ++i) args[i] = place(m, in[i]);
    std::vector<at::Tensor> result = run(m, args);
    if (result.empty()) throw OutputError("tb_ddim_sample: the model returned no tensor");
    at::Tensor eps = result[0].to(at::kFloat);
    if (eps.sizes() != x.sizes()) throw OutputError("tb_ddim_sample: the model's eps has a shape other than x's");
    at::Tensor estimate = ((x - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1);
    at::Tensor noise_part = (x - a.sqrt() * estimate) / (1 - a).sqrt();
    at::Tensor next = prev.sqrt() * estimate + (1 - prev).sqrt() * noise_part;
    at::Tensor next_x0 = torch::where(active, estimate, x0);
    x.copy_(torch::where(active, next, x));
    x0.copy_(next_x0);
    sched.copy_(sched.roll(-1, 1));
    return {x0};
}

}  // namespace

extern "C" {

const char* tb_bridge_version(void) { return TB_BRIDGE_VERSION; }

const char* tb_torch_version(void) { return TORCH_VERSION; }

const char* tb_bridge_features(void) {
#ifdef TB_WITH_CUDA
    return "cuda-graphs";
#else
    return "";
#endif
}

int32_t tb_cuda_is_available(void) {
    try {
        return torch::cuda::is_available() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

int32_t tb_cuda_device_count(void) {
    try {
        return static_cast<int32_t>(torch::cuda::device_count());
    } catch (...) {
        return 0;
    }
}

const char* tb_last_error(void) { return last_error.c_str(); }

void tb_set_num_threads(int32_t intra_op) {
    if (intra_op > 0) at::set_num_threads(intra_op);
}

int32_t tb_get_num_threads(void) { return at::get_num_threads(); }

tb_status tb_tune_allocator(int64_t mmap_threshold, int64_t trim_threshold, int64_t top_pad) {
    // mallopt returns 1 on success. Setting M_MMAP_THRESHOLD also turns off glibc's
    // dynamic threshold, which is the point: big buffers stay on the heap and are reused.
    if (mmap_threshold > 0 && mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_threshold)) != 1)
        return fail(TB_ERROR_ARGUMENT, "mallopt(M_MMAP_THRESHOLD) refused " + std::to_string(mmap_threshold));
    if (trim_threshold > 0 && mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_threshold)) != 1)
        return fail(TB_ERROR_ARGUMENT, "mallopt(M_TRIM_THRESHOLD) refused " + std::to_string(trim_threshold));
    if (top_pad > 0 && mallopt(M_TOP_PAD, static_cast<int>(top_pad)) != 1)
        return fail(TB_ERROR_ARGUMENT, "mallopt(M_TOP_PAD) refused " + std::to_string(top_pad));
    return TB_OK;
}

tb_status tb_module_load(const char* path, const char* device, int32_t precision, int32_t channels_last,
                         tb_module** out) {
    if (path == nullptr || device == nullptr || out == nullptr)
        return fail(TB_ERROR_ARGUMENT, "tb_module_load: path, device and out are required");
    *out = nullptr;
    if (precision_name(precision) == nullptr)
        return fail(TB_ERROR_ARGUMENT, "tb_module_load: unknown precision code " + std::to_string(precision));
    torch::Device target(torch::kCPU);
    try {
        target = torch::Device(std::string(device));
    } catch (const c10::Error& e) {
        return fail(TB_ERROR_DEVICE, std::string("invalid device '") + device + "': " + e.what_without_backtrace());
    }
    if (target.is_cuda()) {
        if (!torch::cuda::is_available())
            return fail(TB_ERROR_DEVICE, std::string("device '") + device +
                                             "' requested but CUDA is not available (this libtorch has no CUDA, "
                                             "or no GPU is visible)");
        auto count = static_cast<int64_t>(torch::cuda::device_count());
        if (target.has_index() && target.index() >= count)
            return fail(TB_ERROR_DEVICE, std::string("device '") + device + "' requested but only " +
                                             std::to_string(count) + " CUDA device(s) exist");
    }
    if ((precision == TB_PRECISION_FP16_AUTOCAST || precision == TB_PRECISION_FP16) && !target.is_cuda())
        return fail(TB_ERROR_DEVICE, std::string("precision ") + precision_name(precision) + " needs a CUDA device; '" +
                                         device + "' is not one (use bf16-autocast or bf16 on CPU)");
    {
        std::ifstream probe(path, std::ios::binary);
        if (!probe) return fail(TB_ERROR_LOAD, std::string("model file not found or unreadable: ") + path);
    }
    try {
        auto module = torch::jit::load(std::string(path), target);
        module.eval();
        if (is_cast(precision)) module.to(lower_type(precision));
        if (channels_last != 0) {
            torch::NoGradGuard no_grad;
            for (at::Tensor p : module.parameters())
                if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
        }
        *out = new tb_module{std::move(module), target, target.str(), precision, channels_last != 0, nullptr, {}};
        return TB_OK;
    } catch (const c10::Error& e) {
        return fail(TB_ERROR_LOAD, std::string("not a loadable TorchScript file: ") + path + ": " +
                                       e.what_without_backtrace());
    } catch (const std::exception& e) {
        return fail(TB_ERROR_LOAD, std::string("not a loadable TorchScript file: ") + path + ": " + e.what());
    }
}

void tb_module_free(tb_module* module) { delete module; }

tb_status tb_module_freeze(tb_module* module) {
    if (module == nullptr) return fail(TB_ERROR_ARGUMENT, "tb_module_freeze: a module is required");
    try {
        torch::jit::Module frozen = torch::jit::freeze(module->module);
        module->module = torch::jit::optimize_for_inference(frozen);
        return TB_OK;
    } catch (const c10::Error& e) {
        return fail(TB_ERROR_LOAD, std::string("freezing the module failed: ") + e.what_without_backtrace());
    } catch (const std::exception& e) {
        return fail(TB_ERROR_LOAD, std::string("freezing the module failed: ") + e.what());
    }
}

tb_status tb_module_use_cuda_graphs(tb_module* module, int32_t max_batch) {
    if (module == nullptr || max_batch < 1)
        return fail(TB_ERROR_ARGUMENT, "tb_module_use_cuda_graphs: a module and max_batch >= 1 are required");
    if (!module->device.is_cuda())
        return fail(TB_ERROR_DEVICE, "CUDA graphs need a model on a CUDA device; this one is on " + module->device_name);
#ifdef TB_WITH_CUDA
    if (!module->graphs) module->graphs = std::make_unique<GraphCache>();
    module->graphs->max_batch = max_batch;
    return TB_OK;
#else
    return fail(TB_ERROR_DEVICE, "CUDA graphs: this torchbridge was built without them (built against a libtorch "
                                 "without CUDA, or without the CUDA runtime's headers; see scripts/build-bridge)");
#endif
}

int32_t tb_module_graph_count(tb_module* module) {
    if (module == nullptr || !module->graphs) return 0;
    std::lock_guard<std::mutex> hold(module->graphs->lock);
    int32_t count = 0;
    for (const auto& entry : module->graphs->entries)
        if (entry.second->captured) ++count;
    return count;
}

const char* tb_module_graph_failure(tb_module* module) {
    graph_failure.clear();
    if (module != nullptr && module->graphs) {
        std::lock_guard<std::mutex> hold(module->graphs->lock);
        graph_failure = module->graphs->failure;
    }
    return graph_failure.c_str();
}

const char* tb_module_device(const tb_module* module) {
    return module == nullptr ? "" : module->device_name.c_str();
}

tb_status tb_module_forward(tb_module* module, const tb_tensor* inputs, int32_t input_count, tb_outputs** out) {
    if (module == nullptr || out == nullptr || (input_count > 0 && inputs == nullptr) || input_count < 0)
        return fail(TB_ERROR_ARGUMENT, "tb_module_forward: module, inputs and out are required");
    *out = nullptr;
    try {
        c10::InferenceMode guard;
        std::vector<at::Tensor> host(static_cast<size_t>(input_count));
        for (int32_t i = 0; i < input_count; ++i)
            if (tb_status status = borrow(inputs[i], i, &host[static_cast<size_t>(i)]); status != TB_OK) return status;
        auto body = [module](const std::vector<at::Tensor>& in, const std::vector<at::Tensor>&) {
            std::vector<c10::IValue> args;
            args.reserve(in.size());
            for (const at::Tensor& t : in) args.emplace_back(place(*module, t));
            return run(*module, args);
        };
        std::vector<at::Tensor> tensors;
        try {
            if (!run_graphed(*module, "forward", host, {}, {}, 1, body, tensors)) tensors = body(host, {});
        } catch (const std::invalid_argument& e) {
            return fail(TB_ERROR_OUTPUT, e.what());
        }
        auto outputs = std::make_unique<tb_outputs>();
        for (auto& t : tensors) {
            if (at::isComplexType(t.scalar_type()))
                return fail(TB_ERROR_OUTPUT, "the model returned a complex tensor, which is not supported");
            outputs->shapes.emplace_back(t.sizes().begin(), t.sizes().end());
            outputs->tensors.push_back(t);
        }
        *out = outputs.release();
        return TB_OK;
    } catch (const c10::Error& e) {
        return fail(TB_ERROR_FORWARD, e);
    } catch (const std::exception& e) {
        return fail(TB_ERROR_FORWARD, e.what());
    } catch (...) {
        return fail(TB_ERROR_FORWARD, "unknown C++ exception during forward");
    }
}

int32_t tb_outputs_count(const tb_outputs* outputs) {
    return outputs == nullptr ? 0 : static_cast<int32_t>(outputs->tensors.size());
}

tb_status tb_outputs_get(const tb_outputs* outputs, int32_t index, int32_t* dtype, int32_t* ndim,
                         const int64_t** shape) {
    if (outputs == nullptr || index < 0 || index >= static_cast<int32_t>(outputs->tensors.size()))
        return fail(TB_ERROR_ARGUMENT, "tb_outputs_get: no output at index " + std::to_string(index));
    const at::Tensor& t = outputs->tensors[static_cast<size_t>(index)];
    *dtype = at::isFloatingType(t.scalar_type()) ? TB_FLOAT32 : TB_INT64;
    *ndim = static_cast<int32_t>(t.dim());
    *shape = outputs->shapes[static_cast<size_t>(index)].data();
    return TB_OK;
}

tb_status tb_outputs_copy(const tb_outputs* outputs, int32_t index, int64_t row_start, int64_t row_count,
                          void* dst, int64_t dst_bytes) {
    if (outputs == nullptr || dst == nullptr || index < 0 || index >= static_cast<int32_t>(outputs->tensors.size()))
        return fail(TB_ERROR_ARGUMENT, "tb_outputs_copy: bad outputs, index or destination");
    try {
        c10::InferenceMode guard;
        at::Tensor src = outputs->tensors[static_cast<size_t>(index)];
        if (row_count >= 0) {
            if (src.dim() == 0 || row_start < 0 || row_start + row_count > src.size(0))
                return fail(TB_ERROR_ARGUMENT, "tb_outputs_copy: rows [" + std::to_string(row_start) + ", " +
                                                   std::to_string(row_start + row_count) + ") outside the output");
            src = src.narrow(0, row_start, row_count);
        }
        at::ScalarType type = at::isFloatingType(src.scalar_type()) ? at::kFloat : at::kLong;
        if (static_cast<int64_t>(src.numel()) * static_cast<int64_t>(c10::elementSize(type)) != dst_bytes)
            return fail(TB_ERROR_ARGUMENT, "tb_outputs_copy: destination is " + std::to_string(dst_bytes) +
                                               " bytes; the rows need " +
                                               std::to_string(src.numel() * static_cast<int64_t>(c10::elementSize(type))));
        torch::from_blob(dst, src.sizes(), torch::TensorOptions().dtype(type)).copy_(src);
        return TB_OK;
    } catch (const c10::Error& e) {
        return fail(TB_ERROR_OUTPUT, e);
    } catch (const std::exception& e) {
        return fail(TB_ERROR_OUTPUT, e.what());
    }
}

void tb_outputs_free(tb_outputs* outputs) { delete outputs; }

tb_status tb_ddim_sample(tb_module* module, const tb_tensor* inputs, int32_t input_count, const double* alpha_bar,
                         int32_t timesteps, tb_outputs** out) {
    if (module == nullptr || out == nullptr || inputs == nullptr || input_count < 2 || alpha_bar == nullptr ||
        timesteps < 1)
        return fail(TB_ERROR_ARGUMENT,
                    "tb_ddim_sample: module, x_T, the schedule, alpha_bar (timesteps >= 1) and out are required");
    *out = nullptr;
    try {
        c10::InferenceMode guard;
        std::vector<at::Tensor> host(static_cast<size_t>(input_count));
        for (int32_t i = 0; i < input_count; ++i)
            if (tb_status status = borrow(inputs[i], i, &host[static_cast<size_t>(i)]); status != TB_OK) return status;
        const at::Tensor& noise = host[0];
        const at::Tensor& schedule = host[1];
        if (!noise.is_floating_point() || noise.dim() < 1)
            return fail(TB_ERROR_ARGUMENT, "tb_ddim_sample: x_T must be float32 [rows, ...]");
        if (schedule.scalar_type() != at::kLong || schedule.dim() != 2 || schedule.size(0) != noise.size(0) ||
            schedule.size(1) < 1)
            return fail(TB_ERROR_ARGUMENT, "tb_ddim_sample: the schedule must be int64 [rows, steps] with one row per x_T row");
        // Checked on the host, once: every timestep in range, each row's padding at its end.
        const int64_t rows = schedule.size(0), width = schedule.size(1);
        const int64_t* ts = schedule.data_ptr<int64_t>();
        int64_t steps = 0;
        for (int64_t r = 0; r < rows; ++r) {
            int64_t n = 0;
            while (n < width && ts[r * width + n] >= 0) {
                if (ts[r * width + n] >= timesteps)
                    return fail(TB_ERROR_ARGUMENT, "tb_ddim_sample: timestep " + std::to_string(ts[r * width + n]) +
                                                       " outside 0.." + std::to_string(timesteps - 1));
                ++n;
            }
            for (int64_t k = n; k < width; ++k)
                if (ts[r * width + k] != -1)
                    return fail(TB_ERROR_ARGUMENT, "tb_ddim_sample: row " + std::to_string(r) +
                                                       " has a timestep after its -1 padding");
            if (n == 0) return fail(TB_ERROR_ARGUMENT, "tb_ddim_sample: row " + std::to_string(r) + " has no steps");
            steps = std::max(steps, n);
        }

        // alpha_bar with 1.0 appended: index `timesteps` is "after the last step" (t_prev = -1).
        at::Tensor abar = torch::ones({timesteps + 1}, torch::TensorOptions().dtype(at::kDouble));
        std::copy(alpha_bar, alpha_bar + timesteps, abar.data_ptr<double>());
        abar = abar.to(at::kFloat);
        // The run's state (ddim_step): x, the schedule -1-padded to one width per model,
        // timesteps + 1 (so that runs of every step count replay the same graph; eagerly the
        // same state, so the CPU runs what a graph captures), the other inputs, x0. A graph's
        // padding rows start inactive: x and x0 zero, no steps.
        const int64_t columns = std::max(steps, static_cast<int64_t>(timesteps)) + 1;
        at::Tensor wide = torch::full({rows, columns}, -1, torch::TensorOptions().dtype(at::kLong));
        wide.narrow(1, 0, steps).copy_(schedule.narrow(1, 0, steps));
        std::vector<at::Tensor> batched = host;
        batched[0] = noise.to(at::kFloat);
        batched[1] = wide;
        batched.push_back(batched[0]);
        std::vector<double> pad(batched.size(), 0.0);
        pad[1] = -1;
        auto body = [module, timesteps](const std::vector<at::Tensor>& in, const std::vector<at::Tensor>& fixed) {
            return ddim_step(*module, in, fixed[0], timesteps);
        };
        std::vector<at::Tensor> result;
        if (!run_graphed(*module, "ddim-step", batched, {abar}, pad, steps, body, result)) {
            // Eagerly: state of our own (never the caller's memory: x and x0 change in place).
            std::vector<at::Tensor> state(batched.size());
            for (size_t i = 0; i < batched.size(); ++i)
                state[i] = module->device.is_cpu() ? batched[i].clone() : to_device(*module, batched[i]);
            const at::Tensor on_device = module->device.is_cpu() ? abar : to_device(*module, abar);
            for (int64_t i = 0; i < steps; ++i) result = body(state, {on_device});
        }
        at::Tensor x0 = result[0];
        auto outputs = std::make_unique<tb_outputs>();
        outputs->shapes.emplace_back(x0.sizes().begin(), x0.sizes().end());
        outputs->tensors.push_back(x0.contiguous());
        *out = outputs.release();
        return TB_OK;
    } catch (const OutputError& e) {
        return fail(TB_ERROR_OUTPUT, e.what());
    } catch (const c10::Error& e) {
        return fail(TB_ERROR_FORWARD, e);
    } catch (const std::exception& e) {
        return fail(TB_ERROR_FORWARD, e.what());
    } catch (...) {
        return fail(TB_ERROR_FORWARD, "unknown C++ exception during sampling");
    }
}

tb_status tb_synchronize(const char* device) {
    try {
        torch::Device target(std::string(device == nullptr ? "cpu" : device));
        if (target.is_cuda()) torch::cuda::synchronize(target.has_index() ? target.index() : -1);
        return TB_OK;
    } catch (const c10::Error& e) {
        return fail(TB_ERROR_DEVICE, e);
    } catch (const std::exception& e) {
        return fail(TB_ERROR_DEVICE, e.what());
    }
}

}  // extern "C"
