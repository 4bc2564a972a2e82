// SPDX-License-Identifier: MIT
/*
 * Contexts: the configuration of everything a session does (log, profiler,
 * job timeout, discovery roots, default spec). npu_env_read() is the only
 * place the library reads the environment; npu_default_context() is the
 * context of the 1.0 functions, made from the environment once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "error.h"
#include "log.h"

static const char *first_set(const char *a, const char *b)
{
	const char *v = getenv(a);

	if (!v || !*v)
		v = b ? getenv(b) : NULL;
	return v && *v ? v : NULL;
}

void npu_env_read(struct npu_env *env)
{
	const char *ms = getenv("NPU_JOB_TIMEOUT_MS");
	long v = ms ? strtol(ms, NULL, 10) : 0;

	env->log_level = first_set("NPU_LOG_LEVEL", "FURIOSA_LOG_LEVEL");
	env->profiler_path = first_set("NPU_PROFILER_OUTPUT_PATH", "FURIOSA_PROFILER_OUTPUT_PATH");
	env->devices = first_set("FURIOSA_DEVICES", "NPU_DEVNAME");
	env->sysfs_root = first_set("NPU_SYSFS_ROOT", NULL);
	env->devfs_root = first_set("NPU_DEVFS_ROOT", NULL);
	env->job_timeout_ms = v > 0 && v <= (long)UINT32_MAX ? (unsigned int)v : 0;
}

npu_status npu_context_new(npu_context **out)
{
	npu_context *ctx;

	if (!out)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "out must not be NULL");
	*out = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for a context");
	atomic_init(&ctx->refs, 1);
	atomic_init(&ctx->log_level, NPU_LOG_INFO);
	ctx->job_timeout_ms = NPU_JOB_TIMEOUT_MS_DEFAULT;
	npu_prof_init(&ctx->prof, ctx);
	*out = ctx;
	return NPU_OK;
}

npu_status npu_context_new_from_env(npu_context **out)
{
	struct npu_env env;
	npu_context *ctx;
	npu_status st;

	st = npu_context_new(&ctx);
	if (st)
		return st;
	npu_env_read(&env);
	if (env.log_level) {
		npu_log_level level;

		if (npu_log_level_parse(env.log_level, &level))
			atomic_store(&ctx->log_level, (int)level);
		else
			npu_ctx_log(ctx, NPU_LOG_WARN,
				    "log level '%s' is not INFO, WARN, ERROR or OFF; using INFO",
				    env.log_level);
	}
	if (env.job_timeout_ms)
		ctx->job_timeout_ms = env.job_timeout_ms;
	/* The spec is checked when it is used, as 1.0 did: a bad one names its column there. */
	st = npu_context_set_roots(ctx, env.sysfs_root, env.devfs_root);
	if (!st && env.devices && !(ctx->devices = strdup(env.devices)))
		st = npu_fail(NPU_ERR_NO_MEMORY, "no memory for a context");
	if (!st)
		st = npu_context_set_profiler_output(ctx, env.profiler_path);
	if (st) {
		npu_context_free(ctx);
		return st;
	}
	*out = ctx;
	return NPU_OK;
}

npu_context *npu_context_ref(npu_context *ctx)
{
	atomic_fetch_add(&ctx->refs, 1);
	return ctx;
}

void npu_context_free(npu_context *ctx)
{
	if (!ctx || atomic_fetch_sub(&ctx->refs, 1) != 1)
		return;
	npu_prof_fini(&ctx->prof);
	pthread_mutex_destroy(&ctx->prof.lock);
	free(ctx->sysfs_root);
	free(ctx->devfs_root);
	free(ctx->devices);
	free(ctx);
}

static npu_context *default_ctx;
static npu_context fallback_ctx;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

/* The default context lives as long as the process; its trace is completed at exit. */
static void default_trace_close(void)
{
	npu_prof_close_trace(&default_ctx->prof);
}

static void default_init(void)
{
	if (npu_context_new_from_env(&default_ctx)) {
		/* Out of memory this early: the built-in defaults, in static memory. */
		atomic_init(&fallback_ctx.refs, 1);
		atomic_init(&fallback_ctx.log_level, NPU_LOG_INFO);
		fallback_ctx.job_timeout_ms = NPU_JOB_TIMEOUT_MS_DEFAULT;
		npu_prof_init(&fallback_ctx.prof, &fallback_ctx);
		default_ctx = &fallback_ctx;
	}
	atexit(default_trace_close);
}

npu_context *npu_default_context(void)
{
	pthread_once(&default_once, default_init);
	return default_ctx;
}

/* Replaces *dst by a copy of src (NULL: none). */
static npu_status set_string(char **dst, const char *src, const char *what)
{
	char *copy = NULL;

	if (src && !(copy = strdup(src)))
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for the %s", what);
	free(*dst);
	*dst = copy;
	return NPU_OK;
}

npu_status npu_context_set_profiler_output(npu_context *ctx, const char *path)
{
	npu_status st;

	if (!ctx)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "the context must not be NULL");
	pthread_mutex_lock(&ctx->prof.lock);
	if (atomic_load(&ctx->prof.started))
		st = npu_fail(NPU_ERR_BUSY,
			      "the profiler of this context has started (a run recorded): set its output before the first run, or use a new context");
	else
		st = set_string(&ctx->prof.path, path && *path ? path : NULL, "profiler path");
	pthread_mutex_unlock(&ctx->prof.lock);
	return st;
}

const char *npu_context_get_profiler_output(const npu_context *ctx)
{
	return ctx ? ctx->prof.path : NULL;
}

npu_status npu_context_set_job_timeout_ms(npu_context *ctx, unsigned int ms)
{
	if (!ctx)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "the context must not be NULL");
	if (!ms)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT,
				"a job timeout of 0 ms would fail every run: give milliseconds > 0");
	ctx->job_timeout_ms = ms;
	return NPU_OK;
}

unsigned int npu_context_get_job_timeout_ms(const npu_context *ctx)
{
	return ctx ? ctx->job_timeout_ms : 0;
}

int64_t npu_context_job_timeout_ns(const npu_context *ctx)
{
	return (int64_t)ctx->job_timeout_ms * 1000000ll;
}

npu_status npu_context_set_roots(npu_context *ctx, const char *sysfs_root, const char *devfs_root)
{
	char *sys = NULL, *dev = NULL;

	if (!ctx)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "the context must not be NULL");
	if (set_string(&sys, sysfs_root, "sysfs root") || set_string(&dev, devfs_root, "/dev root")) {
		free(sys);
		return NPU_ERR_NO_MEMORY;
	}
	free(ctx->sysfs_root);
	free(ctx->devfs_root);
	ctx->sysfs_root = sys;
	ctx->devfs_root = dev;
	return NPU_OK;
}

const char *npu_context_get_sysfs_root(const npu_context *ctx)
{
	return ctx && ctx->sysfs_root ? ctx->sysfs_root : NPU_SYSFS_ROOT_DEFAULT;
}

const char *npu_context_get_devfs_root(const npu_context *ctx)
{
	return ctx && ctx->devfs_root ? ctx->devfs_root : NPU_DEVFS_ROOT_DEFAULT;
}

npu_status npu_context_set_devices(npu_context *ctx, const char *spec)
{
	npu_spec *parsed;
	npu_status st;

	if (!ctx)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "the context must not be NULL");
	if (spec) {
		st = npu_spec_parse(spec, &parsed);
		if (st)
			return st;
		npu_spec_free(parsed);
	}
	return set_string(&ctx->devices, spec, "device spec");
}

const char *npu_context_devices(const npu_context *ctx)
{
	return ctx->devices ? ctx->devices : NPU_DEVICES_DEFAULT;
}

const char *npu_context_get_devices(const npu_context *ctx)
{
	return ctx ? npu_context_devices(ctx) : NPU_DEVICES_DEFAULT;
}
