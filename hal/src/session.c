// SPDX-License-Identifier: MIT
/*
 * Sessions: a spec resolved to device files (discover + allocate), opened
 * exclusively. open() is where the driver settles races between processes:
 * a unit free in sysfs may be taken a moment later, and EBUSY then is
 * reported like any busy unit, with the holder read back from sysfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "discover.h"
#include "error.h"
#include "ioctl.h"
#include "session.h"

/* Discovers the devices under roots and allocates units for the spec text. */
static npu_status resolve_units(const char *text, const struct npu_roots *roots,
				struct npu_unit **units, size_t *count)
{
	struct npu_topology topo;
	npu_spec *spec;
	npu_status st;
	size_t n;

	*units = NULL;
	*count = 0;
	st = npu_spec_parse(text, &spec);
	if (st)
		return st;
	n = npu_spec_unit_count(spec);
	*units = calloc(n, sizeof(**units));
	if (!*units) {
		npu_spec_free(spec);
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for %zu device files", n);
	}
	st = npu_discover(roots, &topo, NULL);
	if (!st) {
		st = npu_allocate(spec, &topo, *units, n);
		npu_topology_free(&topo);
	}
	npu_spec_free(spec);
	if (st) {
		free(*units);
		*units = NULL;
		return st;
	}
	*count = n;
	return NPU_OK;
}

/* The 1.0 rule: roots from the options, else the environment now; spec from the environment now. */
static npu_status legacy_where(const char **spec, const npu_open_options *opts,
			       struct npu_roots *roots)
{
	if (!*spec)
		*spec = npu_spec_default_text();
	return npu_roots_resolve(opts, roots);
}

static npu_status context_where(npu_context *ctx, const char **spec, struct npu_roots *roots)
{
	if (!ctx)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "the context must not be NULL");
	if (!*spec)
		*spec = npu_context_devices(ctx);
	return npu_roots_of(ctx, roots);
}

static npu_status spec_resolve(const char *spec, const struct npu_roots *roots, char ***paths,
			       size_t *count)
{
	struct npu_unit *units;
	size_t n;
	npu_status st;

	st = resolve_units(spec, roots, &units, &n);
	if (st)
		return st;
	*paths = calloc(n, sizeof(**paths));
	for (size_t i = 0; *paths && i < n; i++) {
		size_t len = strlen(roots->devfs) + 1 + strlen(units[i].name) + 1;

		(*paths)[i] = malloc(len);
		if (!(*paths)[i]) {
			npu_paths_free(*paths, i);
			*paths = NULL;
			break;
		}
		snprintf((*paths)[i], len, "%s/%s", roots->devfs, units[i].name);
	}
	free(units);
	if (!*paths)
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for %zu paths", n);
	*count = n;
	return NPU_OK;
}

npu_status npu_spec_resolve(const char *spec, const npu_open_options *opts, char ***paths,
			    size_t *count)
{
	struct npu_roots roots;
	npu_status st;

	if (!paths || !count)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "paths and count must not be NULL");
	*paths = NULL;
	*count = 0;
	st = legacy_where(&spec, opts, &roots);
	return st ? st : spec_resolve(spec, &roots, paths, count);
}

npu_status npu_ctx_spec_resolve(npu_context *ctx, const char *spec, char ***paths, size_t *count)
{
	struct npu_roots roots;
	npu_status st;

	if (!paths || !count)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "paths and count must not be NULL");
	*paths = NULL;
	*count = 0;
	st = context_where(ctx, &spec, &roots);
	return st ? st : spec_resolve(spec, &roots, paths, count);
}

void npu_paths_free(char **paths, size_t count)
{
	for (size_t i = 0; paths && i < count; i++)
		free(paths[i]);
	free(paths);
}

/* The holder of a unit as sysfs shows it now, for an EBUSY message. */
static void describe_holder(const struct npu_roots *roots, const struct npu_unit *u,
			    char *buf, size_t size)
{
	struct npu_topology topo;

	snprintf(buf, size, "held by another process");
	if (npu_discover(roots, &topo, NULL))
		return;
	for (size_t i = 0; i < topo.count; i++) {
		if (topo.devices[i].index != u->device)
			continue;
		for (unsigned int pe = u->pe_first; pe <= u->pe_last && pe < NPU_TOPO_MAX_PES; pe++)
			if (topo.devices[i].pe[pe].pid) {
				snprintf(buf, size, "held by pid %d, '%s'", topo.devices[i].pe[pe].pid,
					 topo.devices[i].pe[pe].comm);
				break;
			}
	}
	npu_topology_free(&topo);
}

/* The ABI version first (a driver of another major may lay out DEVICE_INFO differently). */
static npu_status check_device_file(int fd, const char *path, struct npu_device_info *info)
{
	struct npu_version version = { 0 };
	int r = npu_ioctl_version(fd, &version);
	npu_status st;

	if (!r) {
		st = npu_abi_check(path, &version);
		if (st)
			return st;
		memset(info, 0, sizeof(*info));
		r = npu_ioctl_device_info(fd, info);
	}
	if (r)
		return npu_fail(r == -ENOTTY ? NPU_ERR_NO_DEVICE : NPU_ERR_IO,
				"%s does not answer as an NPU device file: %s", path, strerror(-r));
	return NPU_OK;
}

static npu_status open_unit(const struct npu_roots *roots, struct npu_session_unit *su)
{
	char path[sizeof(roots->devfs) + NPU_DEVFILE_NAME_MAX + 2], holder[128];
	npu_status st;
	int err;

	snprintf(path, sizeof(path), "%s/%s", roots->devfs, su->unit.name);
	su->fd = open(path, O_RDWR | O_CLOEXEC);
	if (su->fd < 0) {
		err = errno;
		switch (err) {
		case EBUSY:
			describe_holder(roots, &su->unit, holder, sizeof(holder));
			return npu_fail(NPU_ERR_BUSY, "%s is busy (%s)", su->unit.name, holder);
		case EAGAIN:
			return npu_fail(NPU_ERR_BUSY,
					"%s is being released or reset; try again shortly",
					su->unit.name);
		case ENOENT:
			return npu_fail(NPU_ERR_NOT_FOUND,
					"%s does not exist although sysfs lists the device (is udev running?)",
					path);
		case EACCES:
		case EPERM:
			return npu_fail(NPU_ERR_INVALID_ARGUMENT,
					"no permission to open %s: add the user to the 'npu' group",
					path);
		case ENODEV:
			return npu_fail(NPU_ERR_NO_DEVICE, "%s: the device is gone", path);
		case EIO:
			return npu_fail(NPU_ERR_IO, "%s: the device has failed (see dmesg)", path);
		default:
			return npu_fail(NPU_ERR_IO, "cannot open %s: %s", path, strerror(err));
		}
	}
	st = check_device_file(su->fd, path, &su->info);
	if (st) {
		close(su->fd);
		su->fd = -1;
	}
	return st;
}

static npu_status session_open(npu_context *ctx, const char *spec,
			       const struct npu_roots *roots, npu_session **out)
{
	struct npu_unit *units;
	npu_session *s;
	size_t n;
	npu_status st;

	st = resolve_units(spec, roots, &units, &n);
	if (st)
		return st;
	s = calloc(1, sizeof(*s) + n * sizeof(s->units[0]));
	if (!s) {
		free(units);
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for a session");
	}
	for (size_t i = 0; i < n; i++) {
		s->units[i].unit = units[i];
		s->units[i].fd = -1;
	}
	free(units);
	s->count = n;
	s->ctx = npu_context_ref(ctx);
	for (size_t i = 0; i < n; i++) {
		st = open_unit(roots, &s->units[i]);
		if (st) {
			npu_session_close(s);
			return st;
		}
	}
	*out = s;
	return NPU_OK;
}

npu_status npu_session_open(const char *spec, const npu_open_options *opts, npu_session **out)
{
	struct npu_roots roots;
	npu_status st;

	if (!out)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "out must not be NULL");
	*out = NULL;
	st = legacy_where(&spec, opts, &roots);
	return st ? st : session_open(npu_default_context(), spec, &roots, out);
}

npu_status npu_ctx_session_open(npu_context *ctx, const char *spec, npu_session **out)
{
	struct npu_roots roots;
	npu_status st;

	if (!out)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "out must not be NULL");
	*out = NULL;
	st = context_where(ctx, &spec, &roots);
	return st ? st : session_open(ctx, spec, &roots, out);
}

void npu_session_close(npu_session *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->count; i++)
		if (s->units[i].fd >= 0)
			close(s->units[i].fd);
	npu_context_free(s->ctx);
	free(s);
}

size_t npu_session_unit_count(const npu_session *s)
{
	return s ? s->count : 0;
}

const char *npu_session_unit_name(const npu_session *s, size_t index)
{
	if (!s || index >= s->count)
		return NULL;
	return s->units[index].unit.name;
}
