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

// How a module computes (tb_module_load). Autocast runs eligible ops (convolutions, matrix
// products) in the lower precision and the rest in float32; the weight casts convert the
// module's floating parameters and buffers and its floating inputs. TF32 and the fp16 forms
// need CUDA; on CPU, TF32 is plain float32. The C# side checks the result against the
// float32 reference outputs before serving (docs/inference.md).
typedef enum tb_precision {
    TB_PRECISION_FP32 = 0,           // float32; on CUDA with TF32 off in cuBLAS and cuDNN
    TB_PRECISION_TF32 = 1,           // float32 tensors, TF32 tensor-core matmuls and convolutions
    TB_PRECISION_BF16_AUTOCAST = 2,
    TB_PRECISION_FP16_AUTOCAST = 3,
    TB_PRECISION_BF16 = 4,           // weights and inputs cast to bfloat16
    TB_PRECISION_FP16 = 5,           // weights and inputs cast to float16 (a "half export")
} tb_precision;

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
// The optional parts this build has, comma-separated: "cuda-graphs" where it was compiled
// against a CUDA libtorch with the CUDA headers (scripts/build-bridge); "" otherwise.
TB_EXPORT const char* tb_bridge_features(void);
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
// precision: tb_precision. channels_last != 0: 4-D weights and 4-D floating inputs in
// channels-last memory order (NHWC), which cuDNN and oneDNN convolutions prefer.
TB_EXPORT tb_status tb_module_load(const char* path, const char* device, int32_t precision, int32_t channels_last,
                                   tb_module** out);
TB_EXPORT void tb_module_free(tb_module* module);
// Freezes the module for inference (torch.jit.freeze, then optimize_for_inference): weights
// become constants, a convolution absorbs the batch norm after it, and on CPU convolutions run
// in oneDNN's layouts. Call after load (precision and memory order are kept), before the first
// forward. TB_ERROR_LOAD, with libtorch's cause, where the module cannot be frozen.
TB_EXPORT tb_status tb_module_freeze(tb_module* module);
// CUDA graphs for this module (a build with "cuda-graphs", a module on CUDA): a forward of up
// to max_batch rows is padded (powers of two up to 8, then eight sizes per doubling: 10, 12,
// 14, 16, 20, ...; at most max_batch) and replays a graph captured at the first call of that
// padded shape, instead of launching every kernel again. A tb_ddim_sample run replays a graph
// of one step (the forward and the update) once per step, so every step count shares the
// graph of its padded rows. Padded forward rows are computed and dropped: the model's rows
// must not depend on each other (eval-mode networks). Larger batches, and shapes whose
// capture failed, run eagerly. Inputs reach the graph's fixed buffers through pinned host
// memory. TB_ERROR_DEVICE where unsupported.
TB_EXPORT tb_status tb_module_use_cuda_graphs(tb_module* module, int32_t max_batch);
// How many graphs the module holds, and the first capture failure ("" if none).
TB_EXPORT int32_t tb_module_graph_count(tb_module* module);
TB_EXPORT const char* tb_module_graph_failure(tb_module* module);
TB_EXPORT const char* tb_module_device(const tb_module* module);

// Forward: inputs are copied to the module's device (on CUDA through pinned host memory, on a
// copy stream the compute waits for by an event); outputs stay where they were made
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

// DDIM (eta 0) run entirely on the module's device: no host round trip between steps.
// inputs are the model's inputs with input 0 the starting noise x_T and input 1 (the
// model's timestep) replaced by the schedule: int64 [rows, steps], each row its timesteps
// from noisy to clean, padded at the end with -1 where a row takes fewer steps. Inputs 2...
// (a class, a guidance scale) are passed to every step unchanged. alpha_bar holds the
// cumulative products of (1 - beta) for the training timesteps 0 ... timesteps-1.
// Each step: x0 = (x - sqrt(1-a) eps) / sqrt(a) clipped to [-1, 1], eps re-derived from
// the clipped x0, x = sqrt(a_prev) x0 + sqrt(1-a_prev) eps. The one output is the last x0.
TB_EXPORT tb_status tb_ddim_sample(tb_module* module, const tb_tensor* inputs, int32_t input_count,
                                   const double* alpha_bar, int32_t timesteps, tb_outputs** out);

// Waits for queued device work (no-op on CPU); used by benchmarks.
TB_EXPORT tb_status tb_synchronize(const char* device);

#ifdef __cplusplus
}
#endif

#endif
