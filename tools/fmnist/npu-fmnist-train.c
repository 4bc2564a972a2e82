// SPDX-License-Identifier: MIT
/*
 * npu-fmnist-train: trains a small MLP on Fashion-MNIST (Debian's
 * dataset-fashion-mnist), quantizes it to int8, writes it as an NPU program,
 * and checks the program: the CPU reference runner (npu_cpu_run, the same
 * interpreter as the emulated NPU) must give exactly the logits of an
 * independent integer model on every test image. Prints the float and int8
 * test accuracies. Optionally writes test-image subsets for the VM
 * (fmnist_set.h). Deterministic: same seed and options, same bytes out.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmnist_set.h"
#include "idx.h"
#include "mlp.h"
#include "npuhal.h"
#include "qmlp.h"

#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
#define MAX_SETS 4
#define CALIBRATION_IMAGES 10000u

struct set_request {
	unsigned long count;
	const char *path;
};

struct options {
	const char *data_dir;
	const char *program_path;
	unsigned int layers;
	unsigned int dims[MLP_MAX_LAYERS + 1];
	unsigned int batch;		/* images per NPU run */
	unsigned long train_limit;	/* 0: all */
	double min_accuracy;
	struct mlp_train_options train;
	struct set_request sets[MAX_SETS];
	unsigned int nsets;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: npu-fmnist-train [options]\n"
		"  -d, --data DIR          IDX files (.gz or not); default %s\n"
		"  -o, --program FILE      write the int8 program (.npuprog)\n"
		"  -s, --set N:FILE        write the first N test images for the VM (repeatable)\n"
		"  -H, --hidden W[,W...]   hidden layer widths; default 128\n"
		"  -e, --epochs N          default 5\n"
		"  -b, --batch N           images per NPU run (rows of the matmuls); default 100\n"
		"      --seed N            default 1\n"
		"      --lr X              first-epoch learning rate; default 0.02\n"
		"      --lr-decay X        learning rate factor per epoch; default 0.6\n"
		"      --train-limit N     train on the first N images only\n"
		"      --min-accuracy X    fail if the int8 test accuracy is below X (0..1)\n"
		"  -q, --quiet             no per-epoch progress\n",
		DEFAULT_DATA_DIR);
}

static int parse_ulong(const char *text, const char *what, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v > max || text[0] == '-') {
		fprintf(stderr, "npu-fmnist-train: %s '%s' is not a number in 0..%lu\n", what, text,
			max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_hidden(const char *text, struct options *o)
{
	char buf[128], *save = NULL, *tok;
	unsigned int layers = 0;

	if (strlen(text) >= sizeof(buf)) {
		fprintf(stderr, "npu-fmnist-train: --hidden '%s' is too long\n", text);
		return -1;
	}
	strcpy(buf, text);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long w;

		if (layers + 1 >= MLP_MAX_LAYERS) {
			fprintf(stderr, "npu-fmnist-train: at most %d hidden layers\n",
				MLP_MAX_LAYERS - 1);
			return -1;
		}
		if (parse_ulong(tok, "hidden width", 4096, &w))
			return -1;
		if (!w) {
			fprintf(stderr, "npu-fmnist-train: a hidden layer needs at least 1 unit\n");
			return -1;
		}
		o->dims[++layers] = (unsigned int)w;
	}
	o->layers = layers + 1;
	o->dims[o->layers] = FMNIST_CLASSES;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_SEED = 256, OPT_LR, OPT_LR_DECAY, OPT_TRAIN_LIMIT, OPT_MIN_ACC };
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "program", required_argument, NULL, 'o' },
		{ "set", required_argument, NULL, 's' },
		{ "hidden", required_argument, NULL, 'H' },
		{ "epochs", required_argument, NULL, 'e' },
		{ "batch", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "lr", required_argument, NULL, OPT_LR },
		{ "lr-decay", required_argument, NULL, OPT_LR_DECAY },
		{ "train-limit", required_argument, NULL, OPT_TRAIN_LIMIT },
		{ "min-accuracy", required_argument, NULL, OPT_MIN_ACC },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long v;
	char *end;
	int c;

	*o = (struct options){
		.data_dir = DEFAULT_DATA_DIR,
		.batch = 100,
		.min_accuracy = 0.0,
		.train = { .epochs = 5, .batch = 32, .learning_rate = 0.02f, .lr_decay = 0.6f,
			   .momentum = 0.9f, .seed = 1, .verbose = 1 },
	};
	o->dims[0] = 28 * 28;
	parse_hidden("128", o);
	while ((c = getopt_long(argc, argv, "d:o:s:H:e:b:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->data_dir = optarg;
			break;
		case 'o':
			o->program_path = optarg;
			break;
		case 's': {
			char *colon = strchr(optarg, ':');

			if (!colon || colon == optarg || !colon[1]) {
				fprintf(stderr, "npu-fmnist-train: --set wants N:FILE, not '%s'\n",
					optarg);
				return -1;
			}
			if (o->nsets == MAX_SETS) {
				fprintf(stderr, "npu-fmnist-train: at most %d --set\n", MAX_SETS);
				return -1;
			}
			*colon = '\0';
			if (parse_ulong(optarg, "--set count", 1000000, &v) || !v)
				return -1;
			o->sets[o->nsets++] = (struct set_request){ v, colon + 1 };
			break;
		}
		case 'H':
			if (parse_hidden(optarg, o))
				return -1;
			break;
		case 'e':
			if (parse_ulong(optarg, "--epochs", 1000, &v))
				return -1;
			o->train.epochs = (unsigned int)v;
			break;
		case 'b':
			if (parse_ulong(optarg, "--batch", 4096, &v) || !v)
				return -1;
			o->batch = (unsigned int)v;
			break;
		case OPT_SEED:
			if (parse_ulong(optarg, "--seed", ~0ul, &v))
				return -1;
			o->train.seed = v;
			break;
		case OPT_LR:
			o->train.learning_rate = strtof(optarg, &end);
			if (*end || !(o->train.learning_rate > 0)) {
				fprintf(stderr, "npu-fmnist-train: --lr '%s' is not > 0\n", optarg);
				return -1;
			}
			break;
		case OPT_LR_DECAY:
			o->train.lr_decay = strtof(optarg, &end);
			if (*end || !(o->train.lr_decay > 0) || o->train.lr_decay > 1) {
				fprintf(stderr, "npu-fmnist-train: --lr-decay '%s' is not in (0, 1]\n",
					optarg);
				return -1;
			}
			break;
		case OPT_TRAIN_LIMIT:
			if (parse_ulong(optarg, "--train-limit", 1000000, &v))
				return -1;
			o->train_limit = v;
			break;
		case OPT_MIN_ACC:
			o->min_accuracy = strtod(optarg, &end);
			if (*end || o->min_accuracy < 0 || o->min_accuracy > 1) {
				fprintf(stderr, "npu-fmnist-train: --min-accuracy '%s' is not in 0..1\n",
					optarg);
				return -1;
			}
			break;
		case 'q':
			o->train.verbose = 0;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "npu-fmnist-train: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Reads DIR/NAME, or DIR/NAME.gz as Debian ships it. */
static void data_path(char *buf, size_t size, const char *dir, const char *name)
{
	FILE *f;

	snprintf(buf, size, "%s/%s", dir, name);
	f = fopen(buf, "rb");
	if (f)
		fclose(f);
	else
		snprintf(buf, size, "%s/%s.gz", dir, name);
}

static int load_split(const char *dir, const char *images_name, const char *labels_name,
		      struct idx_images *images, struct idx_labels *labels)
{
	char path[4096];

	data_path(path, sizeof(path), dir, images_name);
	if (idx_read_images(path, images))
		return -1;
	data_path(path, sizeof(path), dir, labels_name);
	if (idx_read_labels(path, labels))
		return -1;
	if (images->count != labels->count) {
		fprintf(stderr, "%s: %u images but %u labels\n", dir, images->count, labels->count);
		return -1;
	}
	return 0;
}

/* Writes a file completely or not at all (temporary file + rename). */
static int write_file(const char *path, const void *const *parts, const size_t *sizes,
		      unsigned int nparts)
{
	char tmp[4096];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f) {
		fprintf(stderr, "%s: cannot create: %s\n", tmp, strerror(errno));
		return -1;
	}
	ok = 1;
	for (unsigned int i = 0; i < nparts; i++)
		ok &= fwrite(parts[i], 1, sizes[i], f) == sizes[i];
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path)) {
		fprintf(stderr, "%s: cannot write: %s\n", path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/*
 * Runs the program on the CPU reference runner over all test images, batch
 * by batch (the last batch padded with blank images), with the inputs
 * quantized by the HAL exactly as npu_runner_run_host would. Every logit
 * must equal the integer model's. Fills predicted[]; returns the number of
 * mismatching images or -1.
 */
static long run_reference(const npu_program *prog, const struct qmlp *q,
			  const struct idx_images *test, uint8_t *predicted, uint64_t *cycles)
{
	const struct npu_prog_tensor *in_t = NULL, *out_t = NULL;
	size_t pixels = (size_t)test->rows * test->cols, classes = q->l[q->layers - 1].n;
	unsigned int batch;
	float *host_in;
	int8_t *dev_in;
	int32_t *logits, ref[FMNIST_CLASSES], scratch[4096];
	long mismatches = 0;

	for (size_t i = 0; i < npu_program_tensor_count(prog); i++) {
		const struct npu_prog_tensor *t = npu_program_tensor(prog, i);

		if (t->kind == NPU_TENSOR_INPUT)
			in_t = t;
		else
			out_t = t;
	}
	if (!in_t || !out_t || classes != FMNIST_CLASSES)
		return -1;
	batch = in_t->dims[0];
	host_in = malloc((size_t)batch * pixels * sizeof(float));
	dev_in = malloc(in_t->byte_size);
	logits = malloc(out_t->byte_size);
	*cycles = 0;
	if (!host_in || !dev_in || !logits) {
		fprintf(stderr, "no memory for the reference run\n");
		mismatches = -1;
		goto out;
	}
	for (size_t first = 0; first < test->count; first += batch) {
		const void *ins[1] = { dev_in };
		void *outs[1] = { logits };
		uint64_t c;
		npu_status st;

		for (size_t r = 0; r < batch; r++)
			for (size_t p = 0; p < pixels; p++)
				host_in[r * pixels + p] =
					first + r < test->count ?
						(float)test->pixels[(first + r) * pixels + p] / 255.0f :
						0.0f;
		st = npu_tensor_to_device(in_t, host_in, dev_in);
		if (st == NPU_OK)
			st = npu_cpu_run(prog, ins, outs, &c);
		if (st != NPU_OK) {
			fprintf(stderr, "CPU reference run of images %zu..: %s: %s\n", first,
				npu_strerror(st), npu_last_error());
			mismatches = -1;
			goto out;
		}
		*cycles += c;
		for (size_t r = 0; r < batch && first + r < test->count; r++) {
			const int32_t *row = logits + r * classes;
			unsigned int best = 0;

			qmlp_forward(q, dev_in + r * pixels, ref, scratch);
			if (memcmp(ref, row, sizeof(ref))) {
				if (!mismatches)
					fprintf(stderr,
						"image %zu: CPU runner logits differ from the integer model\n",
						first + r);
				mismatches++;
			}
			for (unsigned int k = 1; k < classes; k++)
				if (row[k] > row[best])
					best = k;
			predicted[first + r] = (uint8_t)best;
		}
	}
out:
	free(host_in);
	free(dev_in);
	free(logits);
	return mismatches;
}

/* Test images whose float32 class differs from the int8 program's. */
static size_t count_disagreements(const struct mlp *m, const struct idx_images *test,
				  const uint8_t *predicted)
{
	float *acts[MLP_MAX_LAYERS + 1] = { 0 };
	size_t pixels = (size_t)test->rows * test->cols, n = 0;
	int ok = 1;

	for (unsigned int l = 0; l <= m->layers; l++)
		ok &= (acts[l] = malloc(m->dims[l] * sizeof(float))) != NULL;
	for (size_t i = 0; ok && i < test->count; i++)
		n += mlp_forward(m, test->pixels + i * pixels, acts) != predicted[i];
	for (unsigned int l = 0; l <= m->layers; l++)
		free(acts[l]);
	return n;
}

static int write_set(const struct set_request *req, const struct idx_images *test,
		     const struct idx_labels *labels, const uint8_t *predicted)
{
	struct fmnist_set_header h = { .rows = test->rows, .cols = test->cols };
	size_t n = req->count;
	const void *parts[4];
	size_t sizes[4];

	if (n > test->count) {
		fprintf(stderr, "--set %zu: the test set has only %u images\n", n, test->count);
		return -1;
	}
	memcpy(h.magic, FMNIST_SET_MAGIC, sizeof(h.magic));
	h.count = (uint32_t)n;
	parts[0] = &h;
	sizes[0] = sizeof(h);
	parts[1] = labels->labels;
	sizes[1] = n;
	parts[2] = predicted;
	sizes[2] = n;
	parts[3] = test->pixels;
	sizes[3] = n * test->rows * test->cols;
	if (write_file(req->path, parts, sizes, 4))
		return -1;
	printf("wrote %s: %zu test images\n", req->path, n);
	return 0;
}

int main(int argc, char **argv)
{
	struct idx_images train = { 0 }, test = { 0 };
	struct idx_labels train_labels = { 0 }, test_labels = { 0 };
	struct options o;
	struct mlp m = { 0 };
	struct qmlp q = { 0 };
	npu_program *prog = NULL;
	uint8_t *predicted = NULL;
	void *data = NULL;
	size_t size = 0, train_count, correct = 0, disagree;
	double t0, t_train, float_acc, int8_acc;
	uint64_t cycles;
	long mismatches;
	int ret = 1;

	if (parse_options(argc, argv, &o))
		return 2;
	if (load_split(o.data_dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", &train,
		       &train_labels) ||
	    load_split(o.data_dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", &test,
		       &test_labels))
		goto out;
	train_count = o.train_limit && o.train_limit < train.count ? o.train_limit : train.count;

	printf("model 784");
	for (unsigned int l = 1; l <= o.layers; l++)
		printf("-%u", o.dims[l]);
	printf(", %u epochs, SGD batch %u, momentum %.2f, lr %.3f (x%.2f per epoch), seed %llu\n",
	       o.train.epochs, o.train.batch, (double)o.train.momentum,
	       (double)o.train.learning_rate, (double)o.train.lr_decay,
	       (unsigned long long)o.train.seed);
	if (mlp_init(&m, o.layers, o.dims, o.train.seed))
		goto out;
	t0 = now();
	if (mlp_train(&m, train.pixels, train_labels.labels, train_count, &o.train))
		goto out;
	t_train = now() - t0;
	float_acc = mlp_accuracy(&m, test.pixels, test_labels.labels, test.count);
	printf("float32 training: %zu images, %.1f s; test accuracy %.2f%% (%u images)\n",
	       train_count, t_train, 100.0 * float_acc, test.count);

	if (qmlp_quantize(&m, train.pixels,
			  train_count < CALIBRATION_IMAGES ? train_count : CALIBRATION_IMAGES, &q))
		goto out;
	if (qmlp_emit_program(&q, o.batch, &data, &size))
		goto out;
	if (npu_program_from_bytes(data, size, &prog) != NPU_OK) {
		fprintf(stderr, "the emitted program does not load: %s\n", npu_last_error());
		goto out;
	}
	predicted = malloc(test.count);
	if (!predicted)
		goto out;
	t0 = now();
	mismatches = run_reference(prog, &q, &test, predicted, &cycles);
	if (mismatches) {
		if (mismatches > 0)
			fprintf(stderr, "%ld of %u images: the program's logits differ from the integer model\n",
				mismatches, test.count);
		goto out;
	}
	for (size_t i = 0; i < test.count; i++)
		correct += predicted[i] == test_labels.labels[i];
	int8_acc = (double)correct / test.count;
	disagree = count_disagreements(&m, &test, predicted);
	printf("int8 program: %zu bytes, %u images per run, %.1f KiB DRAM; CPU reference runner "
	       "%.1f s, %llu modelled cycles\n",
	       size, o.batch, (double)npu_program_header(prog)->dram_size / 1024.0, now() - t0,
	       (unsigned long long)cycles);
	printf("int8 test accuracy %.2f%% (%zu/%u), bit-exact with the integer model; "
	       "%zu images classified differently from float32\n",
	       100.0 * int8_acc, correct, test.count, disagree);

	if (o.program_path) {
		const void *parts[1] = { data };

		if (write_file(o.program_path, parts, &size, 1))
			goto out;
		printf("wrote %s\n", o.program_path);
	}
	for (unsigned int i = 0; i < o.nsets; i++)
		if (write_set(&o.sets[i], &test, &test_labels, predicted))
			goto out;
	if (int8_acc < o.min_accuracy) {
		fprintf(stderr, "int8 accuracy %.2f%% is below the required %.2f%%\n",
			100.0 * int8_acc, 100.0 * o.min_accuracy);
		goto out;
	}
	ret = 0;
out:
	npu_program_free(prog);
	free(data);
	free(predicted);
	qmlp_free(&q);
	mlp_free(&m);
	free(train.pixels);
	free(test.pixels);
	free(train_labels.labels);
	free(test_labels.labels);
	return ret;
}
