/* SPDX-License-Identifier: MIT */
/*
 * Internal view of contexts (npu_context in npuhal.h): the configuration a
 * session, runner or queue uses. Sessions hold a reference on theirs.
 */
#ifndef NPUHAL_CONTEXT_H
#define NPUHAL_CONTEXT_H

#include <stdatomic.h>
#include <stdint.h>

#include "npuhal.h"
#include "profiler.h"

/* How long a run waits for the device before giving up, unless configured. */
#define NPU_JOB_TIMEOUT_MS_DEFAULT 60000u
#define NPU_SYSFS_ROOT_DEFAULT "/sys"
#define NPU_DEVFS_ROOT_DEFAULT "/dev"
#define NPU_DEVICES_DEFAULT "warboy(2)*1"

/*
 * What the environment says, as it is now (NULL or 0: not set). The only
 * place libnpuhal reads environment variables.
 */
struct npu_env {
	const char *log_level;		/* NPU_LOG_LEVEL, else FURIOSA_LOG_LEVEL */
	const char *profiler_path;	/* NPU_PROFILER_OUTPUT_PATH, else FURIOSA_... */
	const char *devices;		/* FURIOSA_DEVICES, else NPU_DEVNAME */
	const char *sysfs_root;		/* NPU_SYSFS_ROOT */
	const char *devfs_root;		/* NPU_DEVFS_ROOT */
	unsigned int job_timeout_ms;	/* NPU_JOB_TIMEOUT_MS if a positive number */
};

void npu_env_read(struct npu_env *env);

struct npu_context {
	atomic_uint refs;		/* npu_context_free() drops one, each session holds one */
	atomic_int log_level;
	npu_log_fn log_fn;		/* NULL: stderr */
	void *log_data;
	char *sysfs_root, *devfs_root;	/* NULL: the defaults */
	char *devices;			/* NULL: NPU_DEVICES_DEFAULT */
	unsigned int job_timeout_ms;
	struct npu_profiler prof;
};

/* The process's context for the functions without one: the environment at first use. */
npu_context *npu_default_context(void);
npu_context *npu_context_ref(npu_context *ctx);
/* The default spec of a context ("warboy(2)*1" unless configured). */
const char *npu_context_devices(const npu_context *ctx);
int64_t npu_context_job_timeout_ns(const npu_context *ctx);

#endif /* NPUHAL_CONTEXT_H */
