// SPDX-License-Identifier: MIT
/* Box tables in furiosactl's look, and JSON string escaping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

/* Display width of a UTF-8 string: count code points, not bytes ("°C"). */
static size_t display_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

int table_init(struct table *t, size_t columns, const char *const *headers)
{
	memset(t, 0, sizeof(*t));
	if (columns == 0 || columns > TABLE_MAX_COLUMNS)
		return -1;
	t->columns = columns;
	return table_add_row(t, headers);
}

int table_add_row(struct table *t, const char *const *cells)
{
	char **row;

	if (t->rows == TABLE_MAX_ROWS)
		return -1;
	row = calloc(t->columns, sizeof(*row));
	if (!row)
		return -1;
	for (size_t c = 0; c < t->columns; c++) {
		row[c] = strdup(cells[c] ? cells[c] : "");
		if (!row[c]) {
			while (c--)
				free(row[c]);
			free(row);
			return -1;
		}
	}
	t->cells[t->rows++] = row;
	return 0;
}

static void rule(const struct table *t, const size_t *width, FILE *out)
{
	for (size_t c = 0; c < t->columns; c++) {
		fputc('+', out);
		for (size_t i = 0; i < width[c] + 2; i++)
			fputc('-', out);
	}
	fputs("+\n", out);
}

void table_print(const struct table *t, FILE *out)
{
	size_t width[TABLE_MAX_COLUMNS] = { 0 };

	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->columns; c++) {
			size_t w = display_width(t->cells[r][c]);

			if (w > width[c])
				width[c] = w;
		}
	rule(t, width, out);
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->columns; c++)
			fprintf(out, "| %s%*s ", t->cells[r][c],
				(int)(width[c] - display_width(t->cells[r][c])), "");
		fputs("|\n", out);
		if (r == 0)
			rule(t, width, out);
	}
	rule(t, width, out);
}

void table_free(struct table *t)
{
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->columns; c++)
			free(t->cells[r][c]);
		free(t->cells[r]);
	}
	t->rows = 0;
}

void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}
