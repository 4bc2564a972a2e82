// SPDX-License-Identifier: GPL-2.0
/* pin_user_pages() without the vmas argument (gone since 6.5). */
#include <linux/mm.h>

long npu_probe(unsigned long start, struct page **pages);

long npu_probe(unsigned long start, struct page **pages)
{
	return pin_user_pages(start, 1, FOLL_LONGTERM, pages);
}
