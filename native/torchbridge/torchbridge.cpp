// The C ABI of torchbridge.h over libtorch. No exception crosses the boundary: each
// entry point catches everything and turns it into a tb_status plus a message.
#include "torchbridge.h"

#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>
#include <ATen/Parallel.h>

#include <malloc.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#define TB_BRIDGE_VERSION "1.0.0"

struct tb_module {
    torch::jit::script::Module module;
    torch::Device device;
    std::string device_name;
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

tb_status tb_module_load(const char* path, const char* device, tb_module** out) {
    if (path == nullptr || device == nullptr || out == nullptr)
        return fail(TB_ERROR_ARGUMENT, "tb_module_load: path, device and out are required");
    *out = nullptr;
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
    {
        std::ifstream probe(path, std::ios::binary);
        if (!probe) return fail(TB_ERROR_LOAD, std::string("model file not found or unreadable: ") + path);
    }
    try {
        auto module = torch::jit::load(std::string(path), target);
        module.eval();
        *out = new tb_module{std::move(module), target, target.str()};
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
            const tb_tensor& in = inputs[i];
            at::ScalarType type;
            if (!to_scalar_type(in.dtype, &type))
                return fail(TB_ERROR_ARGUMENT, "input " + std::to_string(i) + ": unknown dtype code " +
                                                   std::to_string(in.dtype));
            if (in.ndim < 0 || (in.ndim > 0 && in.shape == nullptr) || in.data == nullptr)
                return fail(TB_ERROR_ARGUMENT, "input " + std::to_string(i) + ": shape and data are required");
            std::vector<int64_t> shape(in.shape, in.shape + in.ndim);
            // from_blob borrows the caller's memory for the duration of this call only.
            auto cpu = torch::from_blob(const_cast<void*>(in.data), shape, torch::TensorOptions().dtype(type));
            args.emplace_back(module->device.is_cpu() ? cpu : cpu.to(module->device));
        }
        c10::IValue result = module->module.forward(args);
        std::vector<at::Tensor> tensors;
        try {
            collect(result, tensors);
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
