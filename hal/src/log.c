// SPDX-License-Identifier: MIT
/*
 * Log messages of a context: to its log function, else to stderr, from its
 * level up (INFO unless configured, as in FuriosaAI's runtime). The level is
 * atomic, so any thread may log while another changes it.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>

#include "context.h"
#include "log.h"

static const char *const level_name[] = {
	[NPU_LOG_INFO] = "INFO", [NPU_LOG_WARN] = "WARN", [NPU_LOG_ERROR] = "ERROR",
	[NPU_LOG_OFF] = "OFF",
};

bool npu_log_level_parse(const char *text, npu_log_level *level)
{
	for (int i = 0; i <= NPU_LOG_OFF; i++)
		if (!strcasecmp(text, level_name[i])) {
			*level = (npu_log_level)i;
			return true;
		}
	return false;
}

npu_log_level npu_context_get_log_level(const npu_context *ctx)
{
	return ctx ? (npu_log_level)atomic_load(&ctx->log_level) : NPU_LOG_OFF;
}

npu_status npu_context_set_log_level(npu_context *ctx, npu_log_level level)
{
	if (!ctx)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "the context must not be NULL");
	if ((unsigned int)level > NPU_LOG_OFF)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT,
				"log level %d is not NPU_LOG_INFO, _WARN, _ERROR or _OFF", (int)level);
	atomic_store(&ctx->log_level, (int)level);
	return NPU_OK;
}

void npu_context_set_log_fn(npu_context *ctx, npu_log_fn fn, void *data)
{
	if (!ctx)
		return;
	ctx->log_fn = fn;
	ctx->log_data = data;
}

npu_log_level npu_log_get_level(void)
{
	return npu_context_get_log_level(npu_default_context());
}

void npu_log_set_level(npu_log_level level)
{
	if ((unsigned int)level <= NPU_LOG_OFF)
		npu_context_set_log_level(npu_default_context(), level);
}

void npu_ctx_log(npu_context *ctx, npu_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!ctx || level >= NPU_LOG_OFF || level < npu_context_get_log_level(ctx))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctx->log_fn)
		ctx->log_fn(ctx->log_data, level, msg);
	else	/* One fprintf per line: stdio locks the stream, so lines never interleave. */
		fprintf(stderr, "[npuhal] %s: %s\n", level_name[level], msg);
}
