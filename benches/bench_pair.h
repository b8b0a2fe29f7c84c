/* Paired timing: a measured operation and its baseline, run in alternating batches in the same
 * process, so that both see the same machine state (frequency, cache, other load). The result is
 * the median per-operation time of each over all rounds, and their ratio. */
#ifndef MSGSTORE_BENCH_PAIR_H
#define MSGSTORE_BENCH_PAIR_H

#include "bench_common.h"

typedef void (*bench_op)(void *ctx);

typedef struct {
  double measured_ns; /* median per operation */
  double baseline_ns;
  double ratio_median; /* median over rounds of (measured / baseline) in that round */
  unsigned rounds;
  unsigned batch;
} pair_result;

/* The save the save benchmarks measure (save_bench.c, notify_bench.c): one PT_LONG changed, then
 * SaveChanges(KEEP_OPEN_READWRITE) on a message the benchmark keeps open. */
#define SAVE_COUNTER_TAG PROP_TAG(PT_LONG, 0x0017) /* PR_IMPORTANCE */

typedef struct {
  LPMESSAGE msg;
  LONG value;
} save_ctx;

static inline void op_save(void *p) {
  save_ctx *c = p;
  HRESULT hr;
  set_long(c->msg, SAVE_COUNTER_TAG, ++c->value);
  hr = c->msg->lpVtbl->SaveChanges(c->msg, KEEP_OPEN_READWRITE);
  if (hr != S_OK) bench_fail_hr(__FILE__, __LINE__, "SaveChanges", hr);
}

static inline double time_batch(bench_op op, void *ctx, unsigned batch) {
  uint64_t t0 = now_ns(), t1;
  unsigned i;
  for (i = 0; i < batch; i++) op(ctx);
  t1 = now_ns();
  return (double)(t1 - t0) / batch;
}

/* Picks a batch size so that one batch of the slower of the two takes about `target_ns`. */
static inline unsigned calibrate(bench_op a, void *actx, bench_op b, void *bctx, double target_ns) {
  double ta, tb, t;
  unsigned batch;
  /* warm-up */
  time_batch(a, actx, 3);
  time_batch(b, bctx, 3);
  ta = time_batch(a, actx, 20);
  tb = time_batch(b, bctx, 20);
  t = ta > tb ? ta : tb;
  batch = (unsigned)(target_ns / (t > 1 ? t : 1));
  if (batch < 1) batch = 1;
  if (batch > 1000000) batch = 1000000;
  return batch;
}

static inline pair_result run_pair(bench_op measured, void *mctx, bench_op baseline, void *bctx,
                            unsigned rounds, double batch_target_ns) {
  pair_result r;
  double *m = malloc(rounds * sizeof *m), *b = malloc(rounds * sizeof *b),
         *q = malloc(rounds * sizeof *q);
  unsigned i;
  REQUIRE(m && b && q);
  r.batch = calibrate(measured, mctx, baseline, bctx, batch_target_ns);
  r.rounds = rounds;
  for (i = 0; i < rounds; i++) {
    /* Alternate which goes first, so neither always runs on a cache the other warmed. */
    if (i % 2) {
      b[i] = time_batch(baseline, bctx, r.batch);
      m[i] = time_batch(measured, mctx, r.batch);
    } else {
      m[i] = time_batch(measured, mctx, r.batch);
      b[i] = time_batch(baseline, bctx, r.batch);
    }
    q[i] = m[i] / b[i];
  }
  r.ratio_median = median(q, rounds);
  r.measured_ns = median(m, rounds);
  r.baseline_ns = median(b, rounds);
  free(m);
  free(b);
  free(q);
  return r;
}

static inline void print_pair(const char *name, pair_result r, const char *extra) {
  printf("@ case=%s measured_ns=%.1f baseline_ns=%.1f ratio=%.3f round_ratio=%.3f rounds=%u "
         "batch=%u%s%s\n",
         name, r.measured_ns, r.baseline_ns, r.measured_ns / r.baseline_ns, r.ratio_median,
         r.rounds, r.batch, extra && *extra ? " " : "", extra ? extra : "");
  fflush(stdout);
}

#endif /* MSGSTORE_BENCH_PAIR_H */
