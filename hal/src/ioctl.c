// SPDX-License-Identifier: MIT
/* Every ioctl libnpuhal makes, and the check of the driver's ABI version. */
#include <errno.h>
#include <sys/ioctl.h>

#include "error.h"
#include "ioctl.h"

/* One ioctl; 0 or -errno. */
static int call(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

/* The same, again while a signal interrupts it (the call did nothing then). */
static int call_restarting(int fd, unsigned long request, void *arg)
{
	int r;

	do
		r = call(fd, request, arg);
	while (r == -EINTR);
	return r;
}

int npu_ioctl_version(int fd, struct npu_version *version)
{
	return call(fd, NPU_IOCTL_VERSION, version);
}

int npu_ioctl_device_info(int fd, struct npu_device_info *info)
{
	return call(fd, NPU_IOCTL_DEVICE_INFO, info);
}

int npu_ioctl_bo_create(int fd, struct npu_bo_create *create)
{
	return call(fd, NPU_IOCTL_BO_CREATE, create);
}

int npu_ioctl_bo_userptr(int fd, struct npu_bo_userptr *userptr)
{
	return call(fd, NPU_IOCTL_BO_USERPTR, userptr);
}

int npu_ioctl_bo_free(int fd, uint32_t handle)
{
	struct npu_bo_free fr = { .handle = handle };

	return call(fd, NPU_IOCTL_BO_FREE, &fr);
}

int npu_ioctl_submit(int fd, struct npu_submit *submit)
{
	return call_restarting(fd, NPU_IOCTL_SUBMIT, submit);
}

int npu_ioctl_wait(int fd, struct npu_wait *wait)
{
	return call_restarting(fd, NPU_IOCTL_WAIT, wait);
}

npu_status npu_abi_check(const char *path, const struct npu_version *version)
{
	if (version->major == NPU_UAPI_VERSION_MAJOR)
		return NPU_OK;
	if (version->major > NPU_UAPI_VERSION_MAJOR)
		return npu_fail(NPU_ERR_UNSUPPORTED,
				"%s: the driver speaks ioctl ABI %u.%u, but this libnpuhal knows only ABI %u.x: update libnpuhal to a version made for the driver",
				path, version->major, version->minor, NPU_UAPI_VERSION_MAJOR);
	return npu_fail(NPU_ERR_UNSUPPORTED,
			"%s: the driver speaks ioctl ABI %u.%u, but this libnpuhal needs ABI %u.x: update the npu driver (npu-dkms)",
			path, version->major, version->minor, NPU_UAPI_VERSION_MAJOR);
}
