// SPDX-License-Identifier: MIT
// uapi/npu.h from C++ (uapi_header_test.sh builds this with -Wall -Werror):
// the header parses, its declarations have C linkage, its types are usable.
#include <npu.h>

static_assert(sizeof(struct npu_query) == 24, "npu_query layout");
static_assert(sizeof(struct npu_job_cmd) == 48, "npu_job_cmd layout");
static_assert(sizeof(struct npu_submit) == 32, "npu_submit layout");

extern "C" unsigned int npu_cxx_probe(const struct npu_submit *s);

unsigned int npu_cxx_probe(const struct npu_submit *s)
{
	struct npu_query q = { NPU_QUERY_LIMITS, sizeof(struct npu_query_limits), 0, 0, 0 };

	return s->cmd_size + q.size + static_cast<unsigned int>(NPU_IOCTL_QUERY & 0xff) +
	       static_cast<unsigned int>(NPU_BO_USERPTR_READONLY);
}

int main()
{
	struct npu_submit s = {};

	return static_cast<int>(npu_cxx_probe(&s) == 0);
}
