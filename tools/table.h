/* SPDX-License-Identifier: MIT */
/* Output helpers shared by the tools: box tables and JSON strings. */
#ifndef NPU_TOOLS_TABLE_H
#define NPU_TOOLS_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLUMNS 12
#define TABLE_MAX_ROWS 1024

struct table {
	size_t columns;
	size_t rows;			/* the header is row 0 */
	char **cells[TABLE_MAX_ROWS];
};

/* Returns 0, or -1 when out of memory or space. */
int table_init(struct table *t, size_t columns, const char *const *headers);
int table_add_row(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

/* Writes s as a JSON string literal, quotes included. */
void json_string(FILE *out, const char *s);

#endif /* NPU_TOOLS_TABLE_H */
