// SPDX-License-Identifier: MIT
/* Device buffers: created and mapped, pinned over the caller's memory, freed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buffer.h"
#include "error.h"
#include "ioctl.h"

npu_status npu_bo_new(int fd, uint64_t size, struct npu_hal_bo *bo)
{
	struct npu_bo_create create = { .size = size };
	int r;

	memset(bo, 0, sizeof(*bo));
	r = npu_ioctl_bo_create(fd, &create);
	if (r)
		return npu_fail(r == -ENOMEM ? NPU_ERR_NO_MEMORY : NPU_ERR_IO,
				"cannot create a %llu-byte device buffer: %s",
				(unsigned long long)size, strerror(-r));
	bo->fd = fd;
	bo->handle = create.handle;
	bo->size = size;
	bo->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)create.mmap_offset);
	if (bo->map == MAP_FAILED) {
		int err = errno;

		npu_ioctl_bo_free(fd, create.handle);
		bo->map = NULL;
		return npu_fail(NPU_ERR_NO_MEMORY, "cannot map a %llu-byte device buffer: %s",
				(unsigned long long)size, strerror(err));
	}
	return NPU_OK;
}

void npu_bo_delete(struct npu_hal_bo *bo)
{
	if (!bo->handle)
		return;
	if (bo->map)
		munmap(bo->map, bo->size);
	npu_ioctl_bo_free(bo->fd, bo->handle);
	memset(bo, 0, sizeof(*bo));
}

/* The whole last page is pinned: it is mapped anyway. */
uint32_t npu_bo_pin(int fd, const void *p, uint64_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	struct npu_bo_userptr up = { .flags = NPU_BO_USERPTR_READONLY };

	if (page <= 0 || size < NPU_IN_PLACE_MIN_BYTES || (uintptr_t)p % (uintptr_t)page)
		return 0;
	up.user_ptr = (uintptr_t)p;
	up.size = (size + (uint64_t)page - 1) & ~((uint64_t)page - 1);
	if (npu_ioctl_bo_userptr(fd, &up))
		return 0;
	return up.handle;
}

void npu_bo_unpin(int fd, uint32_t handle)
{
	npu_ioctl_bo_free(fd, handle);
}

void *npu_alloc_tensor(size_t bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p = NULL;

	if (!bytes || posix_memalign(&p, page > 0 ? (size_t)page : 4096, bytes))
		return NULL;
	return p;
}

void npu_free_tensor(void *tensor)
{
	free(tensor);
}
