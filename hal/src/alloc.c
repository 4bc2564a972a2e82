// SPDX-License-Identifier: MIT
/*
 * Device-file allocation for a spec.
 *
 * Named items (npu:X:Y, npu:X:Y-Z, npu:X) are resolved first, exactly. The
 * implicit ones (ARCH(X)*Y) are then filled by a depth-first search over the
 * free units in device/PE order, so the first answer is the greedy one when
 * greedy works and another one is found when it does not (FuriosaAI's
 * greedy allocator fails "warboy(1)*1,warboy(2)*1" with npu1pe1 held).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "devspec.h"
#include "error.h"

/* A search bigger than this is a pathological spec; refuse, don't hang. */
#define ALLOC_SEARCH_STEPS_MAX 1000000u
#define NPU_ALLOC_MAX_DEVICES 256

void npu_unit_name(struct npu_unit *u)
{
	switch (u->kind) {
	case NPU_SPEC_PE:
		snprintf(u->name, sizeof(u->name), "npu%upe%u", u->device, u->pe_first);
		break;
	case NPU_SPEC_FUSED:
		snprintf(u->name, sizeof(u->name), "npu%upe%u-%u", u->device, u->pe_first,
			 u->pe_last);
		break;
	default:
		snprintf(u->name, sizeof(u->name), "npu%u", u->device);
		break;
	}
}

size_t npu_spec_unit_count(const npu_spec *spec)
{
	size_t n = 0;

	for (size_t i = 0; i < npu_spec_item_count(spec); i++) {
		const npu_spec_item *it = npu_spec_item_at(spec, i);

		n += it->kind == NPU_SPEC_IMPLICIT ? it->count : 1;
	}
	return n;
}

static const struct npu_topo_device *find_device(const struct npu_topology *topo,
						 unsigned int index)
{
	for (size_t i = 0; i < topo->count; i++)
		if (topo->devices[i].index == index)
			return &topo->devices[i];
	return NULL;
}

static unsigned int unit_mask(const struct npu_unit *u)
{
	return ((1u << (u->pe_last + 1)) - 1) & ~((1u << u->pe_first) - 1);
}

static size_t device_slot(const struct npu_topology *topo, const struct npu_topo_device *d)
{
	return (size_t)(d - topo->devices);
}

static const struct npu_pe_holder *first_holder(const struct npu_topo_device *d,
						unsigned int mask)
{
	for (unsigned int pe = 0; pe < d->pe_count; pe++)
		if ((mask & (1u << pe)) && d->pe[pe].pid)
			return &d->pe[pe];
	return NULL;
}

static npu_status resolve_named(const npu_spec_item *it, const struct npu_topology *topo,
				unsigned int *taken, struct npu_unit *u)
{
	const struct npu_topo_device *d = find_device(topo, it->device);
	const struct npu_pe_holder *h;
	char text[48];
	unsigned int mask;

	npu_spec_item_format(it, text, sizeof(text));
	if (!d)
		return npu_fail(NPU_ERR_NOT_FOUND, "%s (column %u): there is no device npu%u (%zu found)",
				text, it->column, it->device, topo->count);
	u->kind = it->kind;
	u->device = it->device;
	if (it->kind == NPU_SPEC_DEVICE) {
		u->pe_first = 0;
		u->pe_last = d->pe_count - 1;
	} else {
		u->pe_first = it->pe_first;
		u->pe_last = it->pe_last;
		if (u->pe_last >= d->pe_count)
			return npu_fail(NPU_ERR_NOT_FOUND, "%s (column %u): npu%u has %u PEs (0-%u)",
					text, it->column, d->index, d->pe_count, d->pe_count - 1);
		if (it->kind == NPU_SPEC_FUSED && (u->pe_first != 0 || u->pe_last != d->pe_count - 1))
			return npu_fail(NPU_ERR_NOT_FOUND,
					"%s (column %u): npu%u fuses only PEs 0-%u",
					text, it->column, d->index, d->pe_count - 1);
	}
	npu_unit_name(u);
	mask = unit_mask(u);
	if (taken[device_slot(topo, d)] & mask)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT,
				"%s (column %u): overlaps a device file named earlier in the spec",
				text, it->column);
	h = first_holder(d, mask);
	if (h && h->pid < 0)
		return npu_fail(NPU_ERR_BUSY, "%s is being released by its last owner; try again",
				u->name);
	if (h)
		return npu_fail(NPU_ERR_BUSY, "%s is busy (held by pid %d, '%s')", u->name, h->pid,
				h->comm);
	taken[device_slot(topo, d)] |= mask;
	return NPU_OK;
}

/* One implicit unit to place: PEs per unit and the item it came from. */
struct slot {
	const npu_spec_item *item;
	unsigned int pes;
	size_t first_of_item;	/* index of the item's first slot */
};

struct search {
	const struct npu_topology *topo;
	const struct slot *slots;
	size_t count;
	unsigned int *taken;
	bool ignore_holders;	/* "would it fit if everything were free?" */
	unsigned long steps;
	struct npu_unit *out;
	/* candidate position chosen per slot: device slot * NPU_TOPO_MAX_PES + first PE */
	size_t *pos;
};

static bool unit_fits(const struct search *s, const struct npu_topo_device *d,
		      const char *arch, unsigned int first, unsigned int pes)
{
	unsigned int mask = ((1u << pes) - 1) << first;

	if (strcmp(d->arch, arch) != 0 || first + pes > d->pe_count)
		return false;
	if (pes > 1 && pes != d->pe_count)	/* only the whole PE set fuses */
		return false;
	if (s->taken[device_slot(s->topo, d)] & mask)
		return false;
	return s->ignore_holders || !first_holder(d, mask);
}

static int place(struct search *s, size_t k)
{
	const struct slot *sl;
	size_t start;

	if (k == s->count)
		return 1;
	if (++s->steps > ALLOC_SEARCH_STEPS_MAX)
		return -1;
	sl = &s->slots[k];
	/* Units of one item are interchangeable: keep them in increasing order. */
	start = k > sl->first_of_item ? s->pos[k - 1] + 1 : 0;
	for (size_t p = start; p < s->topo->count * NPU_TOPO_MAX_PES; p++) {
		const struct npu_topo_device *d = &s->topo->devices[p / NPU_TOPO_MAX_PES];
		unsigned int first = (unsigned int)(p % NPU_TOPO_MAX_PES);
		unsigned int mask = ((1u << sl->pes) - 1) << first;
		int r;

		if (!unit_fits(s, d, sl->item->arch, first, sl->pes))
			continue;
		s->taken[p / NPU_TOPO_MAX_PES] |= mask;
		s->pos[k] = p;
		r = place(s, k + 1);
		if (r)
			return r;
		s->taken[p / NPU_TOPO_MAX_PES] &= ~mask;
	}
	return 0;
}

static void fill_units(const struct search *s, const size_t *slot_out)
{
	for (size_t k = 0; k < s->count; k++) {
		struct npu_unit *u = &s->out[slot_out[k]];
		const struct npu_topo_device *d = &s->topo->devices[s->pos[k] / NPU_TOPO_MAX_PES];

		u->device = d->index;
		u->pe_first = (unsigned int)(s->pos[k] % NPU_TOPO_MAX_PES);
		u->pe_last = u->pe_first + s->slots[k].pes - 1;
		u->kind = s->slots[k].pes > 1 ? NPU_SPEC_FUSED : NPU_SPEC_PE;
		npu_unit_name(u);
	}
}

static npu_status busy_message(const struct npu_topology *topo, const char *wanted)
{
	char held[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < topo->count; i++) {
		const struct npu_topo_device *d = &topo->devices[i];

		for (unsigned int pe = 0; pe < d->pe_count && len < sizeof(held); pe++) {
			int n;

			if (!d->pe[pe].pid)
				continue;
			if (d->pe[pe].pid < 0)
				n = snprintf(held + len, sizeof(held) - len, "%snpu%upe%u being released",
					     len ? ", " : "", d->index, pe);
			else
				n = snprintf(held + len, sizeof(held) - len,
					     "%snpu%upe%u held by pid %d ('%s')", len ? ", " : "",
					     d->index, pe, d->pe[pe].pid, d->pe[pe].comm);
			len += n > 0 ? (size_t)n : 0;
		}
	}
	return npu_fail(NPU_ERR_BUSY, "not enough free devices for %s: %s", wanted, held);
}

static npu_status allocate_implicit(const npu_spec *spec, struct search *s, struct slot *slots,
				    const size_t *slot_out)
{
	unsigned int saved[NPU_ALLOC_MAX_DEVICES];
	char wanted[128] = "";
	size_t k = 0, wlen = 0;
	int r;

	for (size_t i = 0; i < npu_spec_item_count(spec); i++) {
		const npu_spec_item *it = npu_spec_item_at(spec, i);
		size_t first = k;
		int n;

		if (it->kind != NPU_SPEC_IMPLICIT)
			continue;
		for (unsigned int c = 0; c < it->count; c++, k++)
			slots[k] = (struct slot){ .item = it, .pes = it->pes, .first_of_item = first };
		n = snprintf(wanted + wlen, wlen < sizeof(wanted) ? sizeof(wanted) - wlen : 0,
			     "%s%s(%u)*%u", wlen ? "," : "", it->arch, it->pes, it->count);
		wlen += n > 0 ? (size_t)n : 0;
	}
	s->count = k;
	if (!k)
		return NPU_OK;

	memcpy(saved, s->taken, s->topo->count * sizeof(*saved));
	r = place(s, 0);
	if (r > 0) {
		fill_units(s, slot_out);
		return NPU_OK;
	}
	if (r < 0)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "spec %s is too large to allocate", wanted);

	/* No assignment: would there be one if nobody held anything? */
	memcpy(s->taken, saved, s->topo->count * sizeof(*saved));
	s->ignore_holders = true;
	s->steps = 0;
	r = place(s, 0);
	if (r > 0)
		return busy_message(s->topo, wanted);
	return npu_fail(NPU_ERR_NOT_FOUND, "%s: not enough free-able %s units on %zu device(s)",
			wanted, slots[0].item->arch, s->topo->count);
}

npu_status npu_allocate(const npu_spec *spec, const struct npu_topology *topo,
			struct npu_unit *units, size_t max_units)
{
	size_t need = npu_spec_unit_count(spec), total_pes = 0, k = 0, u = 0;
	unsigned int taken[NPU_ALLOC_MAX_DEVICES] = { 0 };
	struct search s = { .topo = topo, .taken = taken, .out = units };
	struct slot *slots = NULL;
	size_t *slot_out = NULL;
	npu_status st;

	if (!spec || !topo || !units)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "spec, topology and units must not be NULL");
	if (topo->count == 0)
		return npu_fail(NPU_ERR_NO_DEVICE,
				"no NPU found: is the driver loaded (modprobe npu)?");
	if (topo->count > NPU_ALLOC_MAX_DEVICES)
		return npu_fail(NPU_ERR_UNSUPPORTED, "%zu devices; at most %d are supported",
				topo->count, NPU_ALLOC_MAX_DEVICES);
	for (size_t i = 0; i < topo->count; i++)
		total_pes += topo->devices[i].pe_count;
	if (need > total_pes)
		return npu_fail(NPU_ERR_NOT_FOUND,
				"spec asks for %zu device files but the %zu device(s) have %zu PEs",
				need, topo->count, total_pes);
	if (need > max_units)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "spec asks for %zu device files, at most %zu",
				need, max_units);

	slots = calloc(need, sizeof(*slots));
	s.pos = calloc(need, sizeof(*s.pos));
	slot_out = calloc(need, sizeof(*slot_out));
	if (!slots || !s.pos || !slot_out) {
		st = npu_fail(NPU_ERR_NO_MEMORY, "no memory to allocate %zu device files", need);
		goto out;
	}
	s.slots = slots;

	/* Units come out in spec order; implicit slots remember where they go. */
	for (size_t i = 0; i < npu_spec_item_count(spec); i++) {
		const npu_spec_item *it = npu_spec_item_at(spec, i);

		if (it->kind == NPU_SPEC_IMPLICIT) {
			for (unsigned int c = 0; c < it->count; c++)
				slot_out[k++] = u++;
			continue;
		}
		st = resolve_named(it, topo, taken, &units[u++]);
		if (st)
			goto out;
	}
	st = allocate_implicit(spec, &s, slots, slot_out);
out:
	free(slots);
	free(s.pos);
	free(slot_out);
	return st;
}
