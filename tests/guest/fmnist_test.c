// SPDX-License-Identifier: MIT
/*
 * Fashion-MNIST on the emulated NPU: the int8 MLP that tools/fmnist trains
 * at build time (fmnist-mlp.npuprog) classifies test images through
 * libnpuhal's queue on the real driver. Every logit must equal the CPU
 * reference runner's (npu_cpu_run) on the same quantized input, the
 * predictions must equal the ones the host computed when it wrote the image
 * set, and the accuracy must be above a threshold. docs/fashion-mnist.md.
 *
 * The device model runs the same interpreter npu_cpu_run uses
 * (isa/isa_exec.c), and the host's predictions came from npu_cpu_run
 * too, so those two comparisons check the transport (queue, driver, DMA,
 * the model's program fetch), not the arithmetic: an interpreter bug gives
 * the same wrong logits on both sides. The arithmetic is checked against
 * independent references on the host (tests/host/isa_ref_test.c lists
 * where), and npu-fmnist-train fails the build unless npu_cpu_run gives
 * exactly the logits of its own integer model (tools/fmnist/qmlp.c). Only
 * the accuracy here is measured against something independent: the labels.
 *
 * Environment: FMNIST_PROGRAM, FMNIST_SET (default: the 1000-image subset;
 * `make fmnist-full` passes the 10,000-image set), FMNIST_DEVICES (a device
 * spec, default warboy(1)*2), FMNIST_MIN_ACCURACY (percent, default 84).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"
#include "hal_test_util.h"
#include "npuhal.h"

#include "../../tools/fmnist/fmnist_set.h"

#define DEFAULT_PROGRAM "/usr/share/npu/programs/fmnist-mlp.npuprog"
#define DEFAULT_SET "/usr/share/npu/programs/fmnist-test-1000.bin"
#define DEFAULT_DEVICES "warboy(1)*2"
#define DEFAULT_MIN_ACCURACY 84.0
#define PIXELS (28 * 28)

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The whole file in memory; NULL with errno set. */
static uint8_t *read_whole(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len);
		if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
			errno = EIO;
		}
		*size = (size_t)len;
	} else {
		errno = EINVAL;
	}
	fclose(f);
	return buf;
}

FIXTURE(fmnist)
{
	npu_program *prog;
	const struct npu_prog_tensor *in_t, *out_t;
	unsigned int batch, classes, jobs;
	uint8_t *file;
	uint32_t count;
	const uint8_t *labels, *predicted, *pixels;
	int8_t *dev_in;		/* jobs * in_t->byte_size: every batch's device input */
	double quantize_s;	/* host quantization of all images in the setup */
	npu_session *session;
	npu_runner *runner;
};

/* Quantizes every batch (the last padded with blank images) as the HAL does. */
static int quantize_all(FIXTURE_DATA(fmnist) *self)
{
	float *host = malloc((size_t)self->batch * PIXELS * sizeof(float));

	if (!host)
		return -1;
	for (unsigned int j = 0; j < self->jobs; j++) {
		for (size_t r = 0; r < self->batch; r++) {
			size_t image = (size_t)j * self->batch + r;

			for (size_t p = 0; p < PIXELS; p++)
				host[r * PIXELS + p] = image < self->count ?
					(float)self->pixels[image * PIXELS + p] / 255.0f : 0.0f;
		}
		if (npu_tensor_to_device(self->in_t, host,
					 self->dev_in + (size_t)j * self->in_t->byte_size)) {
			free(host);
			return -1;
		}
	}
	free(host);
	return 0;
}

FIXTURE_SETUP(fmnist)
{
	const char *prog_path = env_or("FMNIST_PROGRAM", DEFAULT_PROGRAM);
	const char *set_path = env_or("FMNIST_SET", DEFAULT_SET);
	const char *devices = env_or("FMNIST_DEVICES", DEFAULT_DEVICES);
	struct fmnist_set_header h;
	size_t size = 0;
	double t0;

	memset(self, 0, sizeof(*self));
	ASSERT_EQ(NPU_OK, npu_program_load(prog_path, &self->prog))
		TH_LOG("%s: %s (built by make examples)", prog_path, npu_last_error());
	for (size_t i = 0; i < npu_program_tensor_count(self->prog); i++) {
		const struct npu_prog_tensor *t = npu_program_tensor(self->prog, i);

		if (t->kind == NPU_TENSOR_INPUT)
			self->in_t = t;
		else
			self->out_t = t;
	}
	ASSERT_TRUE(self->in_t && self->out_t);
	ASSERT_EQ(4, self->in_t->rank);
	ASSERT_EQ(PIXELS, self->in_t->dims[2] * self->in_t->dims[3]);
	ASSERT_EQ(NPU_PROG_DTYPE_INT32, self->out_t->dtype);
	self->batch = self->in_t->dims[0];
	self->classes = self->out_t->dims[1];
	ASSERT_EQ(FMNIST_CLASSES, self->classes);

	self->file = read_whole(set_path, &size);
	ASSERT_NE(NULL, self->file) TH_LOG("%s: %s", set_path, strerror(errno));
	ASSERT_GE(size, sizeof(h));
	memcpy(&h, self->file, sizeof(h));
	ASSERT_EQ(0, memcmp(h.magic, FMNIST_SET_MAGIC, sizeof(h.magic)))
		TH_LOG("%s is not a Fashion-MNIST image set", set_path);
	ASSERT_EQ(28, h.rows);
	ASSERT_EQ(28, h.cols);
	ASSERT_EQ(sizeof(h) + (size_t)h.count * (2 + PIXELS), size)
		TH_LOG("%s: size does not match %u images", set_path, h.count);
	self->count = h.count;
	self->labels = self->file + sizeof(h);
	self->predicted = self->labels + h.count;
	self->pixels = self->predicted + h.count;
	self->jobs = (self->count + self->batch - 1) / self->batch;

	self->dev_in = malloc((size_t)self->jobs * self->in_t->byte_size);
	ASSERT_NE(NULL, self->dev_in);
	t0 = now();
	ASSERT_EQ(0, quantize_all(self)) TH_LOG("quantizing: %s", npu_last_error());
	self->quantize_s = now() - t0;

	HAL_TEST_OPEN_RUNNER(devices, self->prog, &self->session, &self->runner);
}

FIXTURE_TEARDOWN(fmnist)
{
	hal_test_close(self->runner, self->session, self->prog);
	free(self->dev_in);
	free(self->file);
}

static unsigned int argmax(const int32_t *v, unsigned int n)
{
	unsigned int best = 0;

	for (unsigned int i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

/* Receives one finished job into its slot of out; returns its status. */
static npu_status receive_one(npu_queue *q, int32_t *out, size_t job_words, unsigned int *done)
{
	int32_t *tmp = malloc(job_words * sizeof(int32_t));
	void *outs[1] = { tmp };
	void *ctx = NULL;
	npu_status st;

	if (!tmp)
		return NPU_ERR_NO_MEMORY;
	st = npu_queue_recv(q, -1, &ctx, outs, NULL);
	if (st == NPU_OK)
		memcpy(out + (uintptr_t)ctx * job_words, tmp, job_words * sizeof(int32_t));
	free(tmp);
	(*done)++;
	return st;
}

/*
 * All images on the NPU through a queue (jobs on every unit of the session),
 * then the same device inputs on the CPU reference runner: identical logits,
 * which proves the bytes survive the driver and DMA path (see the top).
 */
TEST_F_TIMEOUT(fmnist, classify_logits_survive_the_driver_path, 1800)
{
	size_t job_words = (size_t)self->batch * self->classes;
	int32_t *dev_out = calloc((size_t)self->jobs * job_words, sizeof(int32_t));
	int32_t *cpu_out = calloc(job_words, sizeof(int32_t));
	const char *min_text = getenv("FMNIST_MIN_ACCURACY");
	double min_acc = min_text && *min_text ? atof(min_text) : DEFAULT_MIN_ACCURACY;
	unsigned int submitted = 0, done = 0, failed = 0;
	size_t correct = 0, build_disagree = 0, mismatched_images = 0;
	double t0, t_npu, t_cpu;
	npu_queue *q;

	ASSERT_NE(NULL, dev_out);
	ASSERT_NE(NULL, cpu_out);
	ASSERT_EQ(NPU_OK, npu_queue_create(self->runner, NULL, &q))
		TH_LOG("queue: %s", npu_last_error());

	t0 = now();
	while (submitted < self->jobs) {
		const void *ins[1] = { self->dev_in + (size_t)submitted * self->in_t->byte_size };
		npu_status st = npu_queue_submit(q, ins, (void *)(uintptr_t)submitted, 0);

		if (st == NPU_ERR_TIMEOUT) {	/* every slot busy: collect a result */
			failed += receive_one(q, dev_out, job_words, &done) != NPU_OK;
			continue;
		}
		ASSERT_EQ(NPU_OK, st) TH_LOG("submit job %u: %s", submitted, npu_last_error());
		submitted++;
	}
	while (done < submitted)
		failed += receive_one(q, dev_out, job_words, &done) != NPU_OK;
	t_npu = now() - t0;
	npu_queue_destroy(q);
	EXPECT_EQ(0, failed) TH_LOG("%u jobs failed on the device", failed);

	t0 = now();
	for (unsigned int j = 0; j < self->jobs; j++) {
		const void *ins[1] = { self->dev_in + (size_t)j * self->in_t->byte_size };
		void *outs[1] = { cpu_out };

		ASSERT_EQ(NPU_OK, npu_cpu_run(self->prog, ins, outs, NULL))
			TH_LOG("CPU reference job %u: %s", j, npu_last_error());
		for (unsigned int r = 0; r < self->batch; r++) {
			size_t image = (size_t)j * self->batch + r;
			const int32_t *dev = dev_out + j * job_words + r * self->classes;
			unsigned int guess;

			if (image >= self->count)
				break;
			if (memcmp(dev, cpu_out + r * self->classes,
				   self->classes * sizeof(int32_t))) {
				if (!mismatched_images)
					TH_LOG("image %zu: NPU logit[0] %d, CPU %d", image, dev[0],
					       cpu_out[r * self->classes]);
				mismatched_images++;
			}
			guess = argmax(dev, self->classes);
			correct += guess == self->labels[image];
			build_disagree += guess != self->predicted[image];
		}
	}
	t_cpu = now() - t0;

	ksft_print_msg("fmnist: %u images, %u images per job, %u jobs on '%s': quantize %.2f s, "
		       "NPU %.2f s, CPU reference %.2f s\n",
		       self->count, self->batch, self->jobs,
		       env_or("FMNIST_DEVICES", DEFAULT_DEVICES), self->quantize_s, t_npu, t_cpu);
	ksft_print_msg("fmnist: int8 accuracy on the NPU %.2f%% (%zu/%u) against the labels; "
		       "transport check (same interpreter on both sides): %zu images differ "
		       "from npu_cpu_run, %zu predictions from the build-time npu_cpu_run\n",
		       100.0 * (double)correct / self->count, correct, self->count,
		       mismatched_images, build_disagree);
	EXPECT_EQ(0, mismatched_images);
	EXPECT_EQ(0, build_disagree);
	EXPECT_GE(100.0 * (double)correct / self->count, min_acc)
		TH_LOG("accuracy below FMNIST_MIN_ACCURACY %.2f%%", min_acc);
	free(dev_out);
	free(cpu_out);
}

/*
 * The float path: npu_runner_run_host quantizes float images and dequantizes
 * the logits; the result equals the CPU runner's logits dequantized.
 */
TEST_F(fmnist, float_images_float_logits)
{
	size_t n_in = npu_tensor_elements(self->in_t), n_out = npu_tensor_elements(self->out_t);
	float *images = malloc(n_in * sizeof(float));
	float *npu_logits = malloc(n_out * sizeof(float));
	float *cpu_logits = malloc(n_out * sizeof(float));
	int32_t *cpu_raw = malloc(self->out_t->byte_size);
	const void *host_ins[1] = { images }, *dev_ins[1] = { self->dev_in };
	void *host_outs[1] = { npu_logits }, *dev_outs[1] = { cpu_raw };
	size_t correct = 0, rows = self->batch < self->count ? self->batch : self->count;

	ASSERT_TRUE(images && npu_logits && cpu_logits && cpu_raw);
	for (size_t i = 0; i < n_in; i++)
		images[i] = i < self->count * (size_t)PIXELS ? (float)self->pixels[i] / 255.0f : 0.0f;
	ASSERT_EQ(NPU_OK, npu_runner_run_host(self->runner, host_ins, host_outs, NULL))
		TH_LOG("run_host: %s", npu_last_error());
	ASSERT_EQ(NPU_OK, npu_cpu_run(self->prog, dev_ins, dev_outs, NULL));
	ASSERT_EQ(NPU_OK, npu_tensor_from_device(self->out_t, cpu_raw, cpu_logits));
	EXPECT_EQ(0, memcmp(npu_logits, cpu_logits, n_out * sizeof(float)));
	for (size_t r = 0; r < rows; r++) {
		unsigned int best = 0;

		for (unsigned int c = 1; c < self->classes; c++)
			if (npu_logits[r * self->classes + c] > npu_logits[r * self->classes + best])
				best = c;
		correct += best == self->labels[r];
	}
	ksft_print_msg("fmnist: float in, float out: %zu of the first %zu images right\n",
		       correct, rows);
	free(images);
	free(npu_logits);
	free(cpu_logits);
	free(cpu_raw);
}

TEST_HARNESS_MAIN
