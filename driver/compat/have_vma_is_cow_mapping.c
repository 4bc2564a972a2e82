// SPDX-License-Identifier: GPL-2.0
/* vma_is_cow_mapping(vma), which replaced is_cow_mapping(vma->vm_flags). */
#include <linux/mm.h>

bool npu_probe(const struct vm_area_struct *vma);

bool npu_probe(const struct vm_area_struct *vma)
{
	return vma_is_cow_mapping(vma);
}
