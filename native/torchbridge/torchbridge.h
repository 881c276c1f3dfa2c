// torchbridge: a small C ABI over libtorch's TorchScript runtime, called from .NET by
// P/Invoke (Inference/Native/TorchBridge.cs). Every function that can fail returns a
// tb_status; on failure tb_last_error() holds a message whose first line is the cause.
#ifndef TORCHBRIDGE_H
#define TORCHBRIDGE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TB_EXPORT __attribute__((visibility("default")))

typedef enum tb_status {
    TB_OK = 0,
    TB_ERROR_ARGUMENT = 1,   // a null pointer, an unknown dtype, a bad index
    TB_ERROR_LOAD = 2,       // the file is missing, unreadable or not TorchScript
    TB_ERROR_DEVICE = 3,     // the device string is bad or the device is unavailable
    TB_ERROR_FORWARD = 4,    // the model rejected its inputs or failed while running
    TB_ERROR_OUTPUT = 5,     // the model returned something other than tensors
} tb_status;

typedef enum tb_dtype {
    TB_FLOAT32 = 0,
    TB_INT64 = 1,
} tb_dtype;

typedef struct tb_module tb_module;   // a loaded TorchScript module on one device
typedef struct tb_outputs tb_outputs; // the tensors one forward returned, still on the device

typedef struct tb_tensor {
    int32_t dtype;          // tb_dtype
    int32_t ndim;
    const int64_t* shape;   // ndim entries
    const void* data;       // contiguous, row-major; read only during the call
} tb_tensor;

// Versions and the machine.
TB_EXPORT const char* tb_bridge_version(void);
TB_EXPORT const char* tb_torch_version(void);
TB_EXPORT int32_t tb_cuda_is_available(void);
TB_EXPORT int32_t tb_cuda_device_count(void);
TB_EXPORT const char* tb_last_error(void);  // thread-local; valid until the next call on this thread

// Settings, applied once at start.
TB_EXPORT void tb_set_num_threads(int32_t intra_op);
TB_EXPORT int32_t tb_get_num_threads(void);
// glibc malloc tuning: with defaults libtorch's large short-lived buffers are mmap'ed and
// unmapped every forward, page-faulting 1.5-2x the time away. Values <= 0 keep glibc's.
TB_EXPORT tb_status tb_tune_allocator(int64_t mmap_threshold, int64_t trim_threshold, int64_t top_pad);

// Modules.
TB_EXPORT tb_status tb_module_load(const char* path, const char* device, tb_module** out);
TB_EXPORT void tb_module_free(tb_module* module);
TB_EXPORT const char* tb_module_device(const tb_module* module);

// Forward: inputs are copied to the module's device; outputs stay where they were made
// until tb_outputs_copy moves them (floating types as float32, integer/bool as int64).
TB_EXPORT tb_status tb_module_forward(tb_module* module, const tb_tensor* inputs, int32_t input_count,
                                      tb_outputs** out);
TB_EXPORT int32_t tb_outputs_count(const tb_outputs* outputs);
// dtype (tb_dtype as it will be copied out), ndim and shape of output `index`.
TB_EXPORT tb_status tb_outputs_get(const tb_outputs* outputs, int32_t index, int32_t* dtype, int32_t* ndim,
                                   const int64_t** shape);
// Copies rows [row_start, row_start + row_count) of output `index` (row_count < 0: all of
// it) into `dst` on the host, converting the dtype; dst_bytes must be exactly that size.
// One copy from the device straight into the caller's memory: a batch's outputs are split
// per request here, with no intermediate host tensor.
TB_EXPORT tb_status tb_outputs_copy(const tb_outputs* outputs, int32_t index, int64_t row_start, int64_t row_count,
                                    void* dst, int64_t dst_bytes);
TB_EXPORT void tb_outputs_free(tb_outputs* outputs);

// Waits for queued device work (no-op on CPU); used by benchmarks.
TB_EXPORT tb_status tb_synchronize(const char* device);

#ifdef __cplusplus
}
#endif

#endif
