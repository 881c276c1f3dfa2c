// The C ABI of torchbridge.h over libtorch. No exception crosses the boundary: each
// entry point catches everything and turns it into a tb_status plus a message.
#include "torchbridge.h"

#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>

#include <malloc.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#define TB_BRIDGE_VERSION "1.1.0"

struct tb_module {
    torch::jit::script::Module module;
    torch::Device device;
    std::string device_name;
    int32_t precision = TB_PRECISION_FP32;
    bool channels_last = false;
};

struct tb_outputs {
    std::vector<at::Tensor> tensors;
    std::vector<std::vector<int64_t>> shapes;
};

namespace {

thread_local std::string last_error;

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

// The module's precision for the duration of one forward. Autocast state is thread-local
// (set and restored here). TF32 is a process-wide libtorch flag: it is set per forward from
// the module's precision, so two modules of different precisions running at the same moment
// on one host can see each other's setting (docs/inference.md).
class PrecisionScope {
public:
    explicit PrecisionScope(const tb_module& m) : type_(m.device.type()), autocast_(is_autocast(m.precision)) {
        if (m.device.is_cuda()) {
            bool tf32 = m.precision == TB_PRECISION_TF32;
            at::globalContext().setAllowTF32CuBLAS(tf32);
            at::globalContext().setAllowTF32CuDNN(tf32);
        }
        if (autocast_) {
            was_enabled_ = autocast_enabled(type_);
            was_dtype_ = autocast_dtype(type_);
            set_autocast(type_, true);
            set_autocast_dtype(type_, lower_type(m.precision));
            at::autocast::increment_nesting();
        }
    }
    ~PrecisionScope() {
        if (!autocast_) return;
        if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
        set_autocast(type_, was_enabled_);
        set_autocast_dtype(type_, was_dtype_);
    }
    PrecisionScope(const PrecisionScope&) = delete;
    PrecisionScope& operator=(const PrecisionScope&) = delete;

private:
    c10::DeviceType type_;
    bool autocast_;
    bool was_enabled_ = false;
    at::ScalarType was_dtype_ = at::kFloat;
};

// A caller's input on the module's device, in the module's input type and memory order.
at::Tensor place(const tb_module& m, at::Tensor t) {
    if (!m.device.is_cpu()) t = t.to(m.device);
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

}  // namespace

extern "C" {

const char* tb_bridge_version(void) { return TB_BRIDGE_VERSION; }

const char* tb_torch_version(void) { return TORCH_VERSION; }

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
        *out = new tb_module{std::move(module), target, target.str(), precision, channels_last != 0};
        return TB_OK;
    } catch (const c10::Error& e) {
        return fail(TB_ERROR_LOAD, std::string("not a loadable TorchScript file: ") + path + ": " +
                                       e.what_without_backtrace());
    } catch (const std::exception& e) {
        return fail(TB_ERROR_LOAD, std::string("not a loadable TorchScript file: ") + path + ": " + e.what());
    }
}

void tb_module_free(tb_module* module) { delete module; }

const char* tb_module_device(const tb_module* module) {
    return module == nullptr ? "" : module->device_name.c_str();
}

tb_status tb_module_forward(tb_module* module, const tb_tensor* inputs, int32_t input_count, tb_outputs** out) {
    if (module == nullptr || out == nullptr || (input_count > 0 && inputs == nullptr) || input_count < 0)
        return fail(TB_ERROR_ARGUMENT, "tb_module_forward: module, inputs and out are required");
    *out = nullptr;
    try {
        c10::InferenceMode guard;
        std::vector<c10::IValue> args;
        args.reserve(static_cast<size_t>(input_count));
        for (int32_t i = 0; i < input_count; ++i) {
            at::Tensor cpu;
            if (tb_status status = borrow(inputs[i], i, &cpu); status != TB_OK) return status;
            args.emplace_back(place(*module, cpu));
        }
        std::vector<at::Tensor> tensors;
        try {
            tensors = run(*module, args);
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

        const torch::Device device = module->device;
        auto on_device = [&](const at::Tensor& t) { return device.is_cpu() ? t : t.to(device); };
        // alpha_bar with 1.0 appended: index `timesteps` is "after the last step" (t_prev = -1).
        at::Tensor abar = torch::ones({timesteps + 1}, torch::TensorOptions().dtype(at::kDouble));
        std::copy(alpha_bar, alpha_bar + timesteps, abar.data_ptr<double>());
        abar = on_device(abar.to(at::kFloat));
        // Column `steps` of -1: the step after the last.
        at::Tensor sched = on_device(torch::cat({schedule.narrow(1, 0, steps),
                                                 torch::full({rows, 1}, -1, torch::TensorOptions().dtype(at::kLong))},
                                                1));
        at::Tensor x = on_device(noise.to(at::kFloat));
        at::Tensor x0 = x;
        std::vector<c10::IValue> args(static_cast<size_t>(input_count));
        for (int32_t i = 2; i < input_count; ++i) args[static_cast<size_t>(i)] = place(*module, host[static_cast<size_t>(i)]);
        std::vector<int64_t> view(static_cast<size_t>(x.dim()), 1);
        view[0] = rows;
        auto alpha = [&](const at::Tensor& t) {
            return abar.index_select(0, torch::where(t < 0, torch::full_like(t, timesteps), t)).view(view);
        };
        for (int64_t i = 0; i < steps; ++i) {
            at::Tensor t = sched.select(1, i);
            at::Tensor active = (t >= 0).view(view);
            at::Tensor a = alpha(t), prev = alpha(sched.select(1, i + 1));
            args[0] = place(*module, x);
            args[1] = t.clamp_min(0);
            std::vector<at::Tensor> result = run(*module, args);
            if (result.empty()) return fail(TB_ERROR_OUTPUT, "tb_ddim_sample: the model returned no tensor");
            at::Tensor eps = result[0].to(at::kFloat);
            if (eps.sizes() != x.sizes())
                return fail(TB_ERROR_OUTPUT, "tb_ddim_sample: the model's eps has a shape other than x's");
            at::Tensor estimate = ((x - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1);
            at::Tensor noise_part = (x - a.sqrt() * estimate) / (1 - a).sqrt();
            at::Tensor next = prev.sqrt() * estimate + (1 - prev).sqrt() * noise_part;
            x = torch::where(active, next, x);
            x0 = torch::where(active, estimate, x0);
        }
        auto outputs = std::make_unique<tb_outputs>();
        outputs->shapes.emplace_back(x0.sizes().begin(), x0.sizes().end());
        outputs->tensors.push_back(x0.contiguous());
        *out = outputs.release();
        return TB_OK;
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
