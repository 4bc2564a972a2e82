// SPDX-License-Identifier: MIT
/*
 * Log level: NPU_LOG_LEVEL, else FURIOSA_LOG_LEVEL (INFO, WARN, ERROR, OFF,
 * case-insensitive), else INFO as in FuriosaAI's runtime; npu_log_set_level()
 * overrides both. Read once, atomically, so any thread may log.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "log.h"

static atomic_int log_level = -1;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static const char *const level_name[] = {
	[NPU_LOG_INFO] = "INFO", [NPU_LOG_WARN] = "WARN", [NPU_LOG_ERROR] = "ERROR",
	[NPU_LOG_OFF] = "OFF",
};

static void log_init(void)
{
	const char *env = getenv("NPU_LOG_LEVEL");
	int level = NPU_LOG_INFO, expected = -1;

	if (!env || !*env)
		env = getenv("FURIOSA_LOG_LEVEL");
	if (env && *env) {
		level = -1;
		for (int i = 0; i <= NPU_LOG_OFF; i++)
			if (!strcasecmp(env, level_name[i]))
				level = i;
		if (level < 0) {
			fprintf(stderr, "[npuhal] WARN: log level '%s' is not INFO, WARN, ERROR or OFF; using INFO\n",
				env);
			level = NPU_LOG_INFO;
		}
	}
	/* An explicit npu_log_set_level() before the first log call wins. */
	atomic_compare_exchange_strong(&log_level, &expected, level);
}

npu_log_level npu_log_get_level(void)
{
	pthread_once(&log_once, log_init);
	return (npu_log_level)atomic_load(&log_level);
}

void npu_log_set_level(npu_log_level level)
{
	if ((unsigned int)level > NPU_LOG_OFF)
		return;
	pthread_once(&log_once, log_init);
	atomic_store(&log_level, (int)level);
}

void npu_log(npu_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (level >= NPU_LOG_OFF || level < npu_log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One fprintf per line: stdio locks the stream, so lines never interleave. */
	fprintf(stderr, "[npuhal] %s: %s\n", level_name[level], msg);
}
