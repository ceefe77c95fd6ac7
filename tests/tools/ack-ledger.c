// SPDX-License-Identifier: GPL-2.0
/*
 * ack-ledger: write numbered, checksummed blocks and remember only those
 * the storage acknowledged, then check that none of them was lost.
 *
 *   ack-ledger write DEV LEDGER [options]
 *	JOBS writers (threads), each owning the blocks b with b % JOBS ==
 *	its number, rewrite random blocks of their own, one O_DIRECT
 *	pwrite() at a time, for SECONDS.  Every block carries a header
 *	(magic, block number, version, run id) and a CRC32C over the whole
 *	block.  The ledger gets "issue B V" before a write, "ack B V" once
 *	it returned and "fail B V ERRNO" if it failed; after every FLUSH
 *	acknowledged writes of a writer, an fdatasync() of DEV, and once
 *	that returned "durable J SEQ" (every write of writer J acknowledged
 *	before the flush).  With --dsync the device is opened O_DSYNC and
 *	every acknowledged write is durable at once.
 *   ack-ledger verify DEV LEDGER
 *	reads every block the ledger names and classifies it against the
 *	last version that was durable, acknowledged and issued:
 *	  ok     the durable version or a later one that was issued;
 *	  lost   no valid block at all where a durable version was recorded;
 *	  stale  a valid block older than the last durable version;
 *	  torn   an invalid block (bad magic, number or CRC) although no
 *	         write to it was in flight (issued, never acknowledged);
 *	  volatile  acknowledged but not durable, found older: allowed after
 *	         a power cut with the write cache on, counted apart.
 *	Exit status 1 when lost + stale + torn > 0.
 *
 * Options of write: --blocks N (number of blocks, 1024), --bs BYTES
 * (4096), --jobs J (4), --seconds S (10), --flush N (0: never), --dsync,
 * --seed X, --offset BYTES (where the blocks start on DEV, 0).
 * At the end write prints its counts and the longest time between two
 * completed writes (the longest I/O pause the application saw).
 *
 * The ledger is a text file written with write(2) as the events happen,
 * so that it survives a crash of the storage, not of this machine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define LEDGER_MAGIC	0x4c454447u	/* "LEDG" */
#define MAX_JOBS	64

struct block_hdr {
	u32 magic;
	u32 crc;		/* CRC32C of the block with this field 0 */
	u64 block;
	u64 version;
	u64 run;
};

struct opts {
	const char *dev, *ledger;
	u64 blocks, seed, offset;
	unsigned int bs, jobs, seconds, flush;
	int dsync;
};

struct writer {
	pthread_t thread;
	unsigned int id;
	const struct opts *o;
	int fd;
	u64 *version;	/* per block: last issued */
	u64 writes, acked, failed, flushes, seq;
	u64 rng;
};

static int ledger_fd;
static u64 run_id;
static pthread_mutex_t stamp_lock = PTHREAD_MUTEX_INITIALIZER;
static double last_done, longest_gap;

static u32 crc32c_table[256];

static void crc32c_init(void)
{
	u32 c, i, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc32c_table[i] = c;
	}
}

static u32 crc32c(const u8 *p, size_t len)
{
	u32 c = ~0u;

	while (len--)
		c = crc32c_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static u64 next_rand(u64 *s)
{
	/* splitmix64: reproducible from --seed, good enough for offsets */
	u64 z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void __attribute((noreturn)) die(const char *what)
{
	fprintf(stderr, "ack-ledger: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* One line, one write(2): lines of several writers never interleave. */
static void note(const char *fmt, ...) __attribute((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (write(ledger_fd, line, n) != n)
		die("writing the ledger");
}

static void fill_block(u8 *buf, unsigned int bs, u64 block,
		       u64 version)
{
	struct block_hdr *h = (struct block_hdr *)buf;
	u64 s = run_id ^ (block << 20) ^ version;
	unsigned int i;

	for (i = sizeof(*h); i + 8 <= bs; i += 8) {
		u64 r = next_rand(&s);

		memcpy(buf + i, &r, 8);
	}
	h->magic = LEDGER_MAGIC;
	h->crc = 0;
	h->block = block;
	h->version = version;
	h->run = run_id;
	h->crc = crc32c(buf, bs);
}

static void stamp_done(void)
{
	double t = now_s();

	pthread_mutex_lock(&stamp_lock);
	if (last_done && t - last_done > longest_gap)
		longest_gap = t - last_done;
	last_done = t;
	pthread_mutex_unlock(&stamp_lock);
}

static void *writer_run(void *arg)
{
	struct writer *w = arg;
	const struct opts *o = w->o;
	u64 mine = (o->blocks - w->id + o->jobs - 1) / o->jobs;
	double end = now_s() + o->seconds;
	u64 since_flush = 0;
	u8 *buf;

	if (posix_memalign((void **)&buf, 4096, o->bs))
		die("allocating a block");
	while (mine && now_s() < end) {
		u64 b = w->id + (next_rand(&w->rng) % mine) * o->jobs;
		u64 v = ++w->version[b];
		ssize_t n;

		fill_block(buf, o->bs, b, v);
		note("issue %llu %llu\n", b, v);
		w->writes++;
		n = pwrite(w->fd, buf, o->bs, o->offset + b * o->bs);
		if (n != (ssize_t)o->bs) {
			note("fail %llu %llu %d\n", b, v,
			     n < 0 ? errno : EIO);
			w->failed++;
			/* Storage that is gone fails at once: do not spin. */
			usleep(10000);
			continue;
		}
		stamp_done();
		w->acked++;
		note("ack %llu %llu %u %llu\n", b, v,
		     w->id, ++w->seq);
		if (o->dsync) {
			note("durable %u %llu\n", w->id, w->seq);
		} else if (o->flush && ++since_flush == o->flush) {
			u64 upto = w->seq;

			since_flush = 0;
			if (fdatasync(w->fd)) {
				note("flushfail %u %d\n", w->id, errno);
				continue;
			}
			w->flushes++;
			note("durable %u %llu\n", w->id, upto);
		}
	}
	free(buf);
	return NULL;
}

static int do_write(struct opts *o)
{
	struct writer w[MAX_JOBS];
	u64 *version;
	u64 writes = 0, acked = 0, failed = 0, flushes = 0;
	unsigned int j;
	int fd;

	fd = open(o->dev, O_WRONLY | O_DIRECT | (o->dsync ? O_DSYNC : 0));
	if (fd < 0)
		die(o->dev);
	version = calloc(o->blocks, sizeof(*version));
	if (!version)
		die("allocating the versions");
	note("run %llu blocks %llu bs %u offset %llu jobs %u\n",
	     run_id, o->blocks, o->bs, o->offset, o->jobs);
	for (j = 0; j < o->jobs; j++) {
		w[j] = (struct writer){ .id = j, .o = o, .fd = fd,
					.version = version,
					.rng = o->seed * 1000003u + j };
		if (pthread_create(&w[j].thread, NULL, writer_run, &w[j])) {
			errno = EAGAIN;
			die("starting a writer");
		}
	}
	for (j = 0; j < o->jobs; j++) {
		pthread_join(w[j].thread, NULL);
		writes += w[j].writes;
		acked += w[j].acked;
		failed += w[j].failed;
		flushes += w[j].flushes;
	}
	close(fd);
	free(version);
	printf("writes %llu acked %llu failed %llu flushes %llu longest_pause_ms %.0f\n",
	       writes, acked, failed, flushes, longest_gap * 1000);
	return 0;
}

struct block_state {
	u64 issued, acked, durable;
};

struct ack_rec {
	u64 block, version;
	unsigned int job;
	u64 seq;
};

/*
 * A "durable J SEQ" line makes every "ack ... J S" with S <= SEQ durable;
 * the acks of a writer are in order in the file, so one pass keeping the
 * writer's acks since its last durable line is enough.
 */
static int do_verify(struct opts *o)
{
	struct block_state *st = NULL;
	struct ack_rec *pend[MAX_JOBS] = { 0 };
	size_t npend[MAX_JOBS] = { 0 }, cap[MAX_JOBS] = { 0 };
	u64 ok = 0, lost = 0, stale = 0, torn = 0, vol = 0, checked = 0;
	u64 b, v, seq, i;
	unsigned int job;
	char line[256];
	u8 *buf;
	FILE *f;
	int fd;

	f = fopen(o->ledger, "r");
	if (!f)
		die(o->ledger);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "run %llu blocks %llu bs %u offset %llu",
			   &run_id, &o->blocks, &o->bs, &o->offset) == 4) {
			free(st);
			st = calloc(o->blocks, sizeof(*st));
			if (!st)
				die("allocating the block states");
		} else if (!st) {
			fprintf(stderr, "ack-ledger: %s: no run line first\n", o->ledger);
			return 2;
		} else if (sscanf(line, "issue %llu %llu", &b, &v) == 2 &&
			   b < o->blocks) {
			st[b].issued = v;
		} else if (sscanf(line, "ack %llu %llu %u %llu",
				  &b, &v, &job, &seq) == 4 && b < o->blocks &&
			   job < MAX_JOBS) {
			st[b].acked = v;
			if (npend[job] == cap[job]) {
				cap[job] = cap[job] ? 2 * cap[job] : 1024;
				pend[job] = realloc(pend[job], cap[job] * sizeof(**pend));
				if (!pend[job])
					die("allocating the ledger");
			}
			pend[job][npend[job]++] = (struct ack_rec){ b, v, job, seq };
		} else if (sscanf(line, "durable %u %llu", &job, &seq) == 2 &&
			   job < MAX_JOBS) {
			size_t k, keep = 0;

			for (k = 0; k < npend[job]; k++) {
				struct ack_rec *r = &pend[job][k];

				if (r->seq <= seq) {
					if (r->version > st[r->block].durable)
						st[r->block].durable = r->version;
				} else {
					pend[job][keep++] = *r;
				}
			}
			npend[job] = keep;
		}
	}
	fclose(f);
	if (!st) {
		fprintf(stderr, "ack-ledger: %s: empty ledger\n", o->ledger);
		return 2;
	}

	fd = open(o->dev, O_RDONLY | O_DIRECT);
	if (fd < 0)
		die(o->dev);
	if (posix_memalign((void **)&buf, 4096, o->bs))
		die("allocating a block");
	for (i = 0; i < o->blocks; i++) {
		struct block_hdr *h = (struct block_hdr *)buf;
		const struct block_state *s = &st[i];
		int valid;
		u32 crc;

		if (!s->issued)
			continue;
		checked++;
		if (pread(fd, buf, o->bs, o->offset + i * o->bs) != (ssize_t)o->bs)
			die("reading a block back");
		crc = h->crc;
		h->crc = 0;
		valid = h->magic == LEDGER_MAGIC && h->block == i &&
			h->run == run_id && crc32c(buf, o->bs) == crc;
		if (!valid) {
			if (s->issued > s->acked) {
				ok++;		/* a write in flight may tear */
			} else if (h->magic == LEDGER_MAGIC && h->block == i) {
				printf("torn block %llu: acked version %llu, check fails\n",
				       i, s->acked);
				torn++;
			} else if (s->durable) {
				printf("lost block %llu: durable version %llu, none found\n",
				       i, s->durable);
				lost++;
			} else {
				vol += !!s->acked;
			}
			continue;
		}
		if (h->version > s->issued) {
			printf("torn block %llu: version %llu was never issued (last %llu)\n",
			       i, h->version, s->issued);
			torn++;
		} else if (h->version < s->durable) {
			printf("stale block %llu: version %llu, durable %llu\n",
			       i, h->version, s->durable);
			stale++;
		} else if (h->version < s->acked) {
			vol++;
		} else {
			ok++;
		}
	}
	close(fd);
	free(buf);
	free(st);
	for (job = 0; job < MAX_JOBS; job++)
		free(pend[job]);
	printf("checked %llu ok %llu lost %llu stale %llu torn %llu volatile %llu\n",
	       checked, ok, lost, stale, torn, vol);
	return lost + stale + torn ? 1 : 0;
}

static void __attribute((noreturn)) usage(void)
{
	fprintf(stderr,
		"usage: ack-ledger write DEV LEDGER [--blocks N] [--bs BYTES] [--jobs J]\n"
		"                  [--seconds S] [--flush N] [--dsync] [--seed X] [--offset BYTES]\n"
		"       ack-ledger verify DEV LEDGER\n");
	exit(2);
}

static u64 num_arg(int argc, char **argv, int *i)
{
	char *end;
	u64 v;

	if (++*i >= argc)
		usage();
	errno = 0;
	v = strtoull(argv[*i], &end, 0);
	if (errno || *end || end == argv[*i]) {
		fprintf(stderr, "ack-ledger: %s %s: not a number\n", argv[*i - 1], argv[*i]);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct opts o = { .blocks = 1024, .bs = 4096, .jobs = 4, .seconds = 10 };
	int i, writing;

	if (argc < 4)
		usage();
	writing = !strcmp(argv[1], "write");
	if (!writing && strcmp(argv[1], "verify"))
		usage();
	o.dev = argv[2];
	o.ledger = argv[3];
	for (i = 4; i < argc; i++) {
		if (!writing)
			usage();
		if (!strcmp(argv[i], "--blocks"))
			o.blocks = num_arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--bs"))
			o.bs = num_arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--jobs"))
			o.jobs = num_arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--seconds"))
			o.seconds = num_arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--flush"))
			o.flush = num_arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--seed"))
			o.seed = num_arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--offset"))
			o.offset = num_arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--dsync"))
			o.dsync = 1;
		else
			usage();
	}
	if (writing && (!o.blocks || o.bs < 512 || o.bs % 512 ||
			o.bs < sizeof(struct block_hdr) || !o.jobs ||
			o.jobs > MAX_JOBS || o.offset % 512)) {
		fprintf(stderr, "ack-ledger: bad blocks %llu bs %u jobs %u (1-%d) offset %llu\n",
			o.blocks, o.bs, o.jobs, MAX_JOBS, o.offset);
		return 2;
	}
	crc32c_init();
	if (!writing)
		return do_verify(&o);
	ledger_fd = open(o.ledger, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (ledger_fd < 0)
		die(o.ledger);
	run_id = o.seed ^ (u64)time(NULL) << 16 ^ (u64)getpid();
	return do_write(&o);
}
