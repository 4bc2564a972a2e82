// SPDX-License-Identifier: MIT
/*
 * Device specifications: parsing and canonical printing.
 *
 * Grammar (FuriosaAI runtime "Device Specification", plus npu:X and npuX):
 *   spec    := item ( ',' item )*
 *   item    := ARCH [ '(' N ')' ] '*' N      implicit: N units of X PEs
 *            | 'npu:' N [ ':' N [ '-' N ] ]   whole device, PE, fused PEs
 *            | 'npu' N [ 'pe' N [ '-' N ] ]   raw device file names
 * Blanks around items are ignored. Errors name the 1-based column.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "devspec.h"
#include "error.h"

struct npu_spec {
	size_t count;
	npu_spec_item items[];
};

/* Largest index or count a spec may name; anything bigger is surely a typo. */
#define SPEC_NUMBER_MAX 65535u

static const struct npu_arch_info arches[] = {
	{ .name = "warboy", .pes = 2 },
};

const struct npu_arch_info *npu_arch_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (strcmp(arches[i].name, name) == 0)
			return &arches[i];
	return NULL;
}

struct parser {
	const char *text;
	size_t pos;
};

static npu_status parse_error(const struct parser *p, size_t pos, const char *what)
{
	return npu_fail(NPU_ERR_INVALID_ARGUMENT, "spec '%s': %s at column %zu",
			p->text, what, pos + 1);
}

static char peek(const struct parser *p)
{
	return p->text[p->pos];
}

static npu_status parse_number(struct parser *p, unsigned int *out)
{
	size_t start = p->pos;
	unsigned long value = 0;

	if (!isdigit((unsigned char)peek(p)))
		return parse_error(p, p->pos, "expected a number");
	while (isdigit((unsigned char)peek(p))) {
		value = value * 10 + (unsigned long)(peek(p) - '0');
		if (value > SPEC_NUMBER_MAX)
			return parse_error(p, start, "number too large");
		p->pos++;
	}
	*out = (unsigned int)value;
	return NPU_OK;
}

static npu_status expect(struct parser *p, char c)
{
	char what[32];

	if (peek(p) == c) {
		p->pos++;
		return NPU_OK;
	}
	snprintf(what, sizeof(what), "expected '%c'", c);
	return parse_error(p, p->pos, what);
}

static int at_item_end(const struct parser *p)
{
	size_t i = p->pos;

	while (p->text[i] == ' ' || p->text[i] == '\t')
		i++;
	return p->text[i] == ',' || p->text[i] == '\0';
}

/* After "npu:X" or "npuX": the PE part, if any, then the end of the item. */
static npu_status parse_named_tail(struct parser *p, npu_spec_item *item, const char *pe_sep)
{
	size_t range_pos;
	npu_status st;

	if (at_item_end(p)) {
		item->kind = NPU_SPEC_DEVICE;
		return NPU_OK;
	}
	if (strncmp(p->text + p->pos, pe_sep, strlen(pe_sep)) != 0) {
		char what[48];

		snprintf(what, sizeof(what), "expected '%s' or ','", pe_sep);
		return parse_error(p, p->pos, what);
	}
	p->pos += strlen(pe_sep);
	range_pos = p->pos;
	st = parse_number(p, &item->pe_first);
	if (st)
		return st;
	item->pe_last = item->pe_first;
	item->kind = NPU_SPEC_PE;
	if (peek(p) == '-') {
		p->pos++;
		st = parse_number(p, &item->pe_last);
		if (st)
			return st;
		if (item->pe_last <= item->pe_first)
			return parse_error(p, range_pos,
					   "PE range must go from a lower to a higher PE");
		item->kind = NPU_SPEC_FUSED;
	}
	return NPU_OK;
}

static npu_status parse_implicit(struct parser *p, npu_spec_item *item)
{
	size_t start = p->pos, len = 0, pes_pos;
	const struct npu_arch_info *arch;
	char what[96];
	npu_status st;

	while (isalnum((unsigned char)peek(p)) || peek(p) == '_') {
		if (len + 1 >= sizeof(item->arch))
			return parse_error(p, start, "architecture name too long");
		item->arch[len++] = peek(p);
		p->pos++;
	}
	item->arch[len] = '\0';
	if (len == 0)
		return parse_error(p, p->pos, "expected an architecture name or 'npu'");
	arch = npu_arch_lookup(item->arch);
	if (!arch) {
		snprintf(what, sizeof(what), "unknown architecture '%s' (known: warboy)",
			 item->arch);
		return parse_error(p, start, what);
	}
	item->kind = NPU_SPEC_IMPLICIT;
	item->pes = 1;
	pes_pos = p->pos;
	if (peek(p) == '(') {
		p->pos++;
		pes_pos = p->pos;
		st = parse_number(p, &item->pes);
		if (st)
			return st;
		st = expect(p, ')');
		if (st)
			return st;
	}
	if (item->pes == 0 || item->pes > arch->pes ||
	    (item->pes & (item->pes - 1)) != 0) {
		snprintf(what, sizeof(what), "%s has %u PEs: use (1) or (%u)",
			 arch->name, arch->pes, arch->pes);
		return parse_error(p, pes_pos, what);
	}
	if (peek(p) != '*')
		return parse_error(p, p->pos, "expected '*' and a device count");
	p->pos++;
	st = parse_number(p, &item->count);
	if (st)
		return st;
	if (item->count == 0)
		return parse_error(p, p->pos - 1, "device count must be at least 1");
	return NPU_OK;
}

static npu_status parse_item(struct parser *p, npu_spec_item *item)
{
	const char *s = p->text + p->pos;
	npu_status st;

	memset(item, 0, sizeof(*item));
	item->column = (unsigned int)p->pos + 1;
	if (strncmp(s, "npu:", 4) == 0) {
		p->pos += 4;
		st = parse_number(p, &item->device);
		if (st)
			return st;
		return parse_named_tail(p, item, ":");
	}
	if (strncmp(s, "npu", 3) == 0 && isdigit((unsigned char)s[3])) {
		p->pos += 3;
		st = parse_number(p, &item->device);
		if (st)
			return st;
		return parse_named_tail(p, item, "pe");
	}
	return parse_implicit(p, item);
}

npu_status npu_spec_parse(const char *text, npu_spec **out)
{
	struct parser p = { .text = text, .pos = 0 };
	size_t n = 1, i = 0;
	npu_spec *spec;
	npu_status st;

	if (!text || !out)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "spec and out must not be NULL");
	*out = NULL;
	for (const char *c = text; *c; c++)
		n += *c == ',';
	spec = calloc(1, sizeof(*spec) + n * sizeof(spec->items[0]));
	if (!spec)
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for a %zu-item spec", n);

	for (;;) {
		while (peek(&p) == ' ' || peek(&p) == '\t')
			p.pos++;
		if (peek(&p) == ',' || peek(&p) == '\0') {
			st = parse_error(&p, p.pos, "empty item");
			goto fail;
		}
		st = parse_item(&p, &spec->items[i]);
		if (st)
			goto fail;
		i++;
		while (peek(&p) == ' ' || peek(&p) == '\t')
			p.pos++;
		if (peek(&p) == '\0')
			break;
		if (peek(&p) != ',') {
			st = parse_error(&p, p.pos, "unexpected character");
			goto fail;
		}
		p.pos++;
	}
	spec->count = i;
	*out = spec;
	return NPU_OK;
fail:
	free(spec);
	return st;
}

const char *npu_spec_default_text(void)
{
	struct npu_env env;

	/* As in 1.0: the environment as it is at this call. */
	npu_env_read(&env);
	return env.devices ? env.devices : NPU_DEVICES_DEFAULT;
}

size_t npu_spec_item_count(const npu_spec *spec)
{
	return spec ? spec->count : 0;
}

const npu_spec_item *npu_spec_item_at(const npu_spec *spec, size_t index)
{
	if (!spec || index >= spec->count)
		return NULL;
	return &spec->items[index];
}

int npu_spec_item_format(const npu_spec_item *item, char *buf, size_t size)
{
	switch (item->kind) {
	case NPU_SPEC_IMPLICIT:
		return snprintf(buf, size, "%s(%u)*%u", item->arch, item->pes, item->count);
	case NPU_SPEC_PE:
		return snprintf(buf, size, "npu:%u:%u", item->device, item->pe_first);
	case NPU_SPEC_FUSED:
		return snprintf(buf, size, "npu:%u:%u-%u", item->device, item->pe_first,
				item->pe_last);
	case NPU_SPEC_DEVICE:
		return snprintf(buf, size, "npu:%u", item->device);
	}
	return snprintf(buf, size, "?");
}

size_t npu_spec_format(const npu_spec *spec, char *buf, size_t size)
{
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; spec && i < spec->count; i++) {
		char *dst = len < size ? buf + len : NULL;
		size_t room = len < size ? size - len : 0;
		int n;

		if (i) {
			if (room > 1) {
				dst[0] = ',';
				dst[1] = '\0';
			}
			len++;
			dst = len < size ? buf + len : NULL;
			room = len < size ? size - len : 0;
		}
		n = npu_spec_item_format(&spec->items[i], dst, room);
		len += n > 0 ? (size_t)n : 0;
	}
	return len;
}

void npu_spec_free(npu_spec *spec)
{
	free(spec);
}
