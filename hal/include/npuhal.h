/* SPDX-License-Identifier: MIT */
/*
 * libnpuhal: the userspace hardware abstraction layer of the NPU stack.
 *
 * Every call returns an npu_status; on failure npu_last_error() gives a
 * message for the calling thread that says what was wrong and what to do.
 * All functions are thread-safe unless a comment says otherwise.
 */
#ifndef NPUHAL_H
#define NPUHAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "npu_program.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define NPU_API __attribute__((visibility("default")))
#else
#define NPU_API
#endif

typedef enum npu_status {
	NPU_OK = 0,
	NPU_ERR_INVALID_ARGUMENT,	/* malformed input from the caller */
	NPU_ERR_NOT_FOUND,		/* no such device, file or program entry */
	NPU_ERR_BUSY,			/* the device exists but someone holds it */
	NPU_ERR_NO_MEMORY,
	NPU_ERR_IO,			/* the driver or device reported an error */
	NPU_ERR_TIMEOUT,
	NPU_ERR_NO_DEVICE,		/* driver not loaded or device gone */
	NPU_ERR_BAD_PROGRAM,		/* a program file failed validation */
	NPU_ERR_JOB_FAILED,		/* the device ran the job and it failed */
	NPU_ERR_CLOSED,			/* the session or queue was closed */
	NPU_ERR_UNSUPPORTED,
	NPU_HAL_STATUS_COUNT
} npu_status;

/* Short, stable text for a status ("busy"); never NULL. */
NPU_API const char *npu_strerror(npu_status status);

/*
 * The detail message of the last failed call made by this thread, e.g.
 * "npu0pe0 is busy (held by pid 4242, 'python3')". Valid until the thread's
 * next failing call; "" if there is none.
 */
NPU_API const char *npu_last_error(void);

/* ---- Logging ------------------------------------------------------------------ */

/*
 * Messages go to stderr, or to a context's log function. The level comes
 * from NPU_LOG_LEVEL, else FURIOSA_LOG_LEVEL, else INFO.
 */
typedef enum npu_log_level {
	NPU_LOG_INFO,
	NPU_LOG_WARN,
	NPU_LOG_ERROR,
	NPU_LOG_OFF,
} npu_log_level;

/* The level of the process's default context (see Contexts). */
NPU_API npu_log_level npu_log_get_level(void);
NPU_API void npu_log_set_level(npu_log_level level);

/* ---- Contexts (since 1.1) --------------------------------------------------- */

/*
 * A context owns the library's configuration: where log messages go and from
 * which level, the profiler's trace file, the job timeout, the sysfs and /dev
 * roots and the default device spec. npu_context_new() starts from the
 * built-in defaults and reads no environment variable;
 * npu_context_new_from_env() takes what the environment says, once:
 *   NPU_LOG_LEVEL, else FURIOSA_LOG_LEVEL	INFO, WARN, ERROR or OFF
 *   NPU_PROFILER_OUTPUT_PATH, else FURIOSA_PROFILER_OUTPUT_PATH
 *   NPU_JOB_TIMEOUT_MS			default 60000
 *   NPU_SYSFS_ROOT, NPU_DEVFS_ROOT		default /sys and /dev
 *   FURIOSA_DEVICES, else NPU_DEVNAME	default "warboy(2)*1"
 * The functions without a context (the 1.0 API) use a process-wide context
 * made from the environment at their first use; the 1.0 discovery and
 * session functions read the two roots and the default spec from the
 * environment at each call, as they always did.
 *
 * Configure a context before using it: setters must not race with other
 * calls on the same context (npu_context_set_log_level() may be called at
 * any time). A session holds a reference on its context, so
 * npu_context_free() may come before npu_session_close().
 */
typedef struct npu_context npu_context;

/* Receives every message at or above the level; message has no newline. */
typedef void (*npu_log_fn)(void *data, npu_log_level level, const char *message);

NPU_API npu_status npu_context_new(npu_context **out);
NPU_API npu_status npu_context_new_from_env(npu_context **out);
NPU_API void npu_context_free(npu_context *ctx);

/* fn NULL: back to stderr ("[npuhal] WARN: ..."). */
NPU_API void npu_context_set_log_fn(npu_context *ctx, npu_log_fn fn, void *data);
NPU_API npu_status npu_context_set_log_level(npu_context *ctx, npu_log_level level);
NPU_API npu_log_level npu_context_get_log_level(const npu_context *ctx);
/* A Chrome trace file (NULL: none); only before the context's first run. */
NPU_API npu_status npu_context_set_profiler_output(npu_context *ctx, const char *path);
NPU_API const char *npu_context_get_profiler_output(const npu_context *ctx);
/* How long a run waits for the device (ms, > 0) before NPU_ERR_TIMEOUT. */
NPU_API npu_status npu_context_set_job_timeout_ms(npu_context *ctx, unsigned int ms);
NPU_API unsigned int npu_context_get_job_timeout_ms(const npu_context *ctx);
/* Where devices are found; NULL: /sys, /dev. Tests point these at fake trees. */
NPU_API npu_status npu_context_set_roots(npu_context *ctx, const char *sysfs_root,
					 const char *devfs_root);
NPU_API const char *npu_context_get_sysfs_root(const npu_context *ctx);
NPU_API const char *npu_context_get_devfs_root(const npu_context *ctx);
/* The spec sessions use when given none; checked like npu_spec_parse(). NULL: default. */
NPU_API npu_status npu_context_set_devices(npu_context *ctx, const char *spec);
NPU_API const char *npu_context_get_devices(const npu_context *ctx);

/* ---- Device specifications ------------------------------------------------ */

/*
 * A device specification names the device files a session uses, in the syntax
 * of FuriosaAI's runtime: "warboy(2)*1", "warboy*2", "npu:0:1", "npu:0:0-1",
 * "npu:1", "npu0pe1", "npu0pe0-1", "npu0", and comma-separated lists of these.
 */
typedef enum npu_spec_kind {
	NPU_SPEC_IMPLICIT,	/* ARCH(X)*Y: any Y available units of X PEs */
	NPU_SPEC_PE,		/* npu:X:Y, one PE */
	NPU_SPEC_FUSED,		/* npu:X:Y-Z, PEs Y..Z fused */
	NPU_SPEC_DEVICE,	/* npu:X, the whole device */
} npu_spec_kind;

#define NPU_ARCH_NAME_MAX 16

typedef struct npu_spec_item {
	npu_spec_kind kind;
	char arch[NPU_ARCH_NAME_MAX];	/* IMPLICIT: architecture name */
	unsigned int pes;	/* IMPLICIT: PEs per unit (X) */
	unsigned int count;	/* IMPLICIT: number of units (Y) */
	unsigned int device;	/* named kinds: device index */
	unsigned int pe_first;	/* PE, FUSED: first PE */
	unsigned int pe_last;	/* PE: same as pe_first; FUSED: last PE */
	unsigned int column;	/* 1-based column of the item in the text */
} npu_spec_item;

typedef struct npu_spec npu_spec;

/* Parses text into *out (free with npu_spec_free). Errors name the column. */
NPU_API npu_status npu_spec_parse(const char *text, npu_spec **out);

/*
 * The specification a session uses when the caller gives none: the
 * environment's FURIOSA_DEVICES, else NPU_DEVNAME, else "warboy(2)*1".
 */
NPU_API const char *npu_spec_default_text(void);

NPU_API size_t npu_spec_item_count(const npu_spec *spec);
NPU_API const npu_spec_item *npu_spec_item_at(const npu_spec *spec, size_t index);

/*
 * Writes the canonical form ("warboy(1)*2,npu:0:0-1,npu:1") into buf. Returns
 * the length it needs, without the NUL, like snprintf.
 */
NPU_API size_t npu_spec_format(const npu_spec *spec, char *buf, size_t size);

NPU_API void npu_spec_free(npu_spec *spec);

/* ---- Discovery -------------------------------------------------------------- */

/*
 * Where to look for devices. NULL fields (or a NULL pointer) mean the
 * environment's NPU_SYSFS_ROOT / NPU_DEVFS_ROOT, else /sys and /dev. Tests
 * point these at fake trees laid out like the real ones.
 */
typedef struct npu_open_options {
	const char *sysfs_root;
	const char *devfs_root;
} npu_open_options;

#define NPU_INFO_STRING_MAX 64
#define NPU_CARD_MAX_PES 8

typedef struct npu_pe_info {
	int holder_pid;				/* 0: free; -1: being released */
	char holder_comm[NPU_INFO_STRING_MAX];	/* command of the holder */
} npu_pe_info;

typedef struct npu_card_info {
	unsigned int index;			/* N of /dev/npuN */
	char arch[NPU_ARCH_NAME_MAX];		/* "warboy" */
	unsigned int pe_count;
	char fw_version[NPU_INFO_STRING_MAX];
	char serial[NPU_INFO_STRING_MAX];
	char uuid[NPU_INFO_STRING_MAX];
	char busname[NPU_INFO_STRING_MAX];	/* PCI address "0000:00:03.0" */
	char state[NPU_INFO_STRING_MAX];	/* "ready", "resetting", "failed" */
	char dev[NPU_INFO_STRING_MAX];		/* "major:minor" of npuN_mgmt */
	long temp_mc;				/* millidegrees Celsius; < 0: unknown */
	long power_uw;				/* microwatts; < 0: unknown */
	npu_pe_info pe[NPU_CARD_MAX_PES];
} npu_card_info;

/* Lists the cards, sorted by index. *cards is freed with npu_cards_free(). */
NPU_API npu_status npu_list_cards(const npu_open_options *opts, npu_card_info **cards,
				  size_t *count);
/* As npu_list_cards() with the context's roots (since 1.1). */
NPU_API npu_status npu_ctx_list_cards(npu_context *ctx, npu_card_info **cards, size_t *count);
NPU_API void npu_cards_free(npu_card_info *cards);

/* Performance counters of a device file's PEs (its perf_regs in sysfs). */
typedef struct npu_perf_counters {
	uint64_t cycles;		/* device clock cycles since reset */
	uint64_t task_cycles;		/* busy executing commands (sum over PEs) */
	uint64_t tensor_cycles;		/* of which computing */
	uint64_t dma_cycles;		/* of which moving data */
	uint64_t instructions;
	uint64_t jobs;
	uint64_t errors;
} npu_perf_counters;

/* devfile: a device file name such as "npu0pe1" or "npu0pe0-1". */
NPU_API npu_status npu_read_perf(const npu_open_options *opts, const char *devfile,
				 npu_perf_counters *out);
NPU_API npu_status npu_ctx_read_perf(npu_context *ctx, const char *devfile,
				     npu_perf_counters *out);

/*
 * Resolves a spec (NULL: npu_spec_default_text()) against the devices present
 * now, without opening anything: the device file paths it would take, in
 * spec order. Free with npu_paths_free().
 */
NPU_API npu_status npu_spec_resolve(const char *spec, const npu_open_options *opts,
				    char ***paths, size_t *count);
/* spec NULL: the context's default spec (since 1.1). */
NPU_API npu_status npu_ctx_spec_resolve(npu_context *ctx, const char *spec, char ***paths,
					size_t *count);
NPU_API void npu_paths_free(char **paths, size_t count);

/* ---- Sessions ------------------------------------------------------------------ */

/*
 * A session owns the device files a spec resolved to, opened exclusively:
 * while it is open nobody else can use their PEs. Closing releases them.
 * A session may be used from several threads.
 */
typedef struct npu_session npu_session;

/*
 * Opening a device file checks the driver's ioctl ABI (NPU_IOCTL_VERSION): a
 * major version this library does not know is NPU_ERR_UNSUPPORTED, with a
 * message naming both versions.
 */
NPU_API npu_status npu_session_open(const char *spec, const npu_open_options *opts,
				    npu_session **out);
/*
 * As npu_session_open() with the context's roots and default spec; the
 * session's runners and queues use its log, profiler and job timeout (since 1.1).
 */
NPU_API npu_status npu_ctx_session_open(npu_context *ctx, const char *spec, npu_session **out);
NPU_API void npu_session_close(npu_session *session);
NPU_API size_t npu_session_unit_count(const npu_session *session);
/* Device file name of a unit, "npu0pe0-1". */
NPU_API const char *npu_session_unit_name(const npu_session *session, size_t index);

/* ---- Compiled programs ------------------------------------------------------ */

/*
 * A validated program container (docs/program-format.md). Loading checks the
 * magic, version, CRC, sizes, every section and tensor descriptor; a bad file
 * gets NPU_ERR_BAD_PROGRAM and a message naming the problem, never a crash.
 * A loaded program is immutable and may be shared between threads.
 */
typedef struct npu_program npu_program;

NPU_API npu_status npu_program_load(const char *path, npu_program **out);
NPU_API npu_status npu_program_from_bytes(const void *data, size_t size, npu_program **out);
NPU_API void npu_program_free(npu_program *program);

NPU_API const struct npu_prog_header *npu_program_header(const npu_program *program);
NPU_API size_t npu_program_section_count(const npu_program *program);
NPU_API const struct npu_prog_section *npu_program_section(const npu_program *program,
							   size_t index);
/* Payload of a section: npu_program_section(program, index)->size bytes. */
NPU_API const void *npu_program_section_data(const npu_program *program, size_t index);
NPU_API size_t npu_program_tensor_count(const npu_program *program);
NPU_API const struct npu_prog_tensor *npu_program_tensor(const npu_program *program,
							 size_t index);
/* Bytes of one element of a program dtype, 0 if unknown. */
NPU_API size_t npu_prog_dtype_size(unsigned int dtype);

/*
 * Runs a program on the CPU with the device's instruction semantics (the
 * same interpreter as the emulated NPU): inputs and outputs as for
 * npu_runner_run(), in tensor order. *cycles (may be NULL) gets the modelled
 * compute cycles. No device needed.
 */
NPU_API npu_status npu_cpu_run(const npu_program *program, const void *const *inputs,
			       void *const *outputs, uint64_t *cycles);

/*
 * Writing containers (the assembler and converters use this). Sections are
 * laid out in the order added; the tensor descriptors become one TENSORS
 * section. finish() validates the result exactly as a loader would.
 */
typedef struct npu_program_builder npu_program_builder;

NPU_API npu_status npu_program_builder_new(const char *arch, unsigned int pe_count,
					   uint64_t dram_size, npu_program_builder **out);
NPU_API npu_status npu_program_builder_add_section(npu_program_builder *builder, uint32_t type,
						   uint64_t dram_addr, const void *data,
						   size_t size);
NPU_API npu_status npu_program_builder_add_tensor(npu_program_builder *builder,
						  const struct npu_prog_tensor *tensor);
/* On success *data is malloc'ed, *size bytes long; the caller frees it. */
NPU_API npu_status npu_program_builder_finish(npu_program_builder *builder, void **data,
					      size_t *size);
NPU_API void npu_program_builder_free(npu_program_builder *builder);

/* ---- Runners: a program loaded on a session ------------------------------------ */

/*
 * A runner loads a program's code and constants into the DRAM of every unit
 * of a session (so a session holds one runner at a time: a second
 * npu_runner_create() is NPU_ERR_BUSY until the first is destroyed) and runs it: synchronously with npu_runner_run(), or through
 * a queue (npu_queue_*). The program must outlive the runner. Tensors are
 * passed as device bytes: dtype, layout and byte_size from the program's
 * tensor descriptors (npu_runner_input/output).
 */
typedef struct npu_runner npu_runner;

typedef struct npu_run_info {
	uint64_t device_start;	/* device clock cycles when the job began */
	uint64_t device_end;	/* ...and ended */
	uint32_t clock_mhz;	/* device clock, to turn cycles into time */
	unsigned int unit;	/* session unit that ran it */
	unsigned int inputs_in_place;	/* inputs the device read from the caller's memory */
} npu_run_info;

NPU_API npu_status npu_runner_create(npu_session *session, const npu_program *program,
				     npu_runner **out);
NPU_API void npu_runner_destroy(npu_runner *runner);
NPU_API size_t npu_runner_input_count(const npu_runner *runner);
NPU_API size_t npu_runner_output_count(const npu_runner *runner);
NPU_API const struct npu_prog_tensor *npu_runner_input(const npu_runner *runner, size_t index);
NPU_API const struct npu_prog_tensor *npu_runner_output(const npu_runner *runner, size_t index);

/*
 * Runs once: inputs[i] holds input i (byte_size bytes), outputs[i] receives
 * output i. info may be NULL. Safe to call from several threads; calls
 * spread over the session's units. An input that starts on a page boundary
 * and is at least NPU_IN_PLACE_MIN_BYTES long is not copied: the device
 * reads it where it is (pinned for the run). npu_alloc_tensor() returns such
 * memory. Smaller or unaligned inputs, or a pin the system refuses
 * (RLIMIT_MEMLOCK), are copied.
 */
#define NPU_IN_PLACE_MIN_BYTES (64u * 1024)
NPU_API npu_status npu_runner_run(npu_runner *runner, const void *const *inputs,
				  void *const *outputs, npu_run_info *info);

/* Page-aligned memory for tensors (free with npu_free_tensor), NULL if none. */
NPU_API void *npu_alloc_tensor(size_t bytes);
NPU_API void npu_free_tensor(void *tensor);

/* ---- Tensors on the host ------------------------------------------------------------- */

/*
 * A tensor descriptor's host view is `dims` (row-major) of `host_dtype`; its
 * device view is `byte_size` bytes of `dtype` in `layout` with `pad`.
 * to_device quantizes (if host_dtype is float32: ONNX QuantizeLinear,
 * round half to even, saturate) and lowers (permute, pad with the zero
 * point); from_device unlowers and dequantizes ((q - zero_point) * scale).
 */
NPU_API size_t npu_tensor_elements(const struct npu_prog_tensor *tensor);
NPU_API size_t npu_tensor_host_bytes(const struct npu_prog_tensor *tensor);
NPU_API npu_status npu_tensor_to_device(const struct npu_prog_tensor *tensor, const void *host,
					void *device);
NPU_API npu_status npu_tensor_from_device(const struct npu_prog_tensor *tensor,
					  const void *device, void *host);

/*
 * npu_runner_run() with tensors in their host form (host dtype and shape,
 * e.g. float32 NCHW): quantize + lower, run, unlower + dequantize. The
 * steps show up in the profiler as quantize/lower and unlower/dequantize.
 */
NPU_API npu_status npu_runner_run_host(npu_runner *runner, const void *const *inputs,
				       void *const *outputs, npu_run_info *info);

/* ---- Queues: asynchronous runs ---------------------------------------------------- */

/*
 * A queue keeps several jobs in flight on every unit of a runner's session.
 * submit() copies the inputs into a free slot, queues the job and returns
 * at once (it blocks only while every slot is busy); recv() returns results
 * in completion order with the caller's context. Any number of threads may
 * submit and receive. Each submitted context comes back from recv() exactly
 * once, with the job's status; a job that failed on the device is
 * NPU_ERR_JOB_FAILED and its outputs are left untouched.
 */
typedef struct npu_queue npu_queue;

typedef struct npu_queue_options {
	unsigned int inflight_per_unit;	/* jobs on the device per unit; 0: 4 */
	unsigned int output_capacity;	/* finished jobs held for recv(); 0: all slots */
} npu_queue_options;

NPU_API npu_status npu_queue_create(npu_runner *runner, const npu_queue_options *opts,
				    npu_queue **out);
/*
 * Queues one job; inputs are copied, so the caller may reuse them at once.
 * timeout_ns: how long to wait for a free slot; < 0 forever, 0 not at all.
 */
NPU_API npu_status npu_queue_submit(npu_queue *queue, const void *const *inputs,
				    void *context, int64_t timeout_ns);
/*
 * As npu_queue_submit(), but an input that could be read in place by
 * npu_runner_run() (page-aligned, at least NPU_IN_PLACE_MIN_BYTES) is not
 * copied: the device reads it where it is, so the caller must leave it
 * unchanged and allocated until npu_queue_recv() has returned this job.
 * Other inputs are copied. npu_run_info.inputs_in_place says how many were not.
 */
NPU_API npu_status npu_queue_submit_in_place(npu_queue *queue, const void *const *inputs,
					     void *context, int64_t timeout_ns);
/*
 * Waits up to timeout_ns (< 0 forever) for a finished job, copies its
 * outputs into outputs[] and returns its status; *context is set for every
 * job returned, failed or not. NPU_ERR_TIMEOUT if none finished in time.
 */
NPU_API npu_status npu_queue_recv(npu_queue *queue, int64_t timeout_ns, void **context,
				  void *const *outputs, npu_run_info *info);
/* Waits for the jobs in flight, discards unreceived results, frees the queue. */
NPU_API void npu_queue_destroy(npu_queue *queue);

/* ---- Profiling -------------------------------------------------------------------- */

/*
 * With NPU_PROFILER_OUTPUT_PATH (or FURIOSA_PROFILER_OUTPUT_PATH) set, runs
 * and queues write a Chrome trace there (host steps and device executions)
 * and keep latencies for npu_profiler_print_summary(). The trace is completed
 * at exit; npu_profiler_flush() pushes what is recorded to the file.
 * These act on the default context's profiler; the npu_ctx_profiler_*
 * functions (since 1.1) on a context's, whose trace is completed by
 * npu_context_free() once its last session is closed.
 */
NPU_API bool npu_profiler_enabled(void);
/* Keep latencies for the summary even without a trace file. */
NPU_API void npu_profiler_enable_summary(void);
NPU_API npu_status npu_profiler_flush(void);
/* Latency summaries of every recorded step, FuriosaAI's print_summary() format. */
NPU_API void npu_profiler_print_summary(FILE *out);
NPU_API bool npu_ctx_profiler_enabled(npu_context *ctx);
NPU_API void npu_ctx_profiler_enable_summary(npu_context *ctx);
NPU_API npu_status npu_ctx_profiler_flush(npu_context *ctx);
NPU_API void npu_ctx_profiler_print_summary(npu_context *ctx, FILE *out);

typedef struct npu_latency_summary {
	size_t count;
	uint64_t min_ns, max_ns, mean_ns, median_ns;
	uint64_t p90_ns, p95_ns, p97_ns, p99_ns, p999_ns;	/* nearest-rank */
} npu_latency_summary;

NPU_API npu_status npu_latency_stats(const uint64_t *values_ns, size_t count,
				     npu_latency_summary *out);
NPU_API void npu_latency_print(FILE *out, const char *title, const npu_latency_summary *s);

#ifdef __cplusplus
}
#endif

#endif /* NPUHAL_H */
