/* fo_schedule.h -- learning-rate schedules, written once.
 *
 * scikit-learn's 'optimal' and 'invscaling' rates and the schedules of
 * fastopt.optim's schedule objects. Three loops read them: the per-sample
 * SGD epoch (fo_sgd.h, per sample), the optimizer step of fastopt.optim
 * (fastopt/optim/_rules.pyx, per step: every MLP solver and every
 * minibatch SGD solver given as an object), and the minibatch SGD engine's
 * string solvers (fastopt/linear_model/_sgd_fast.pyx, per minibatch).
 * scikit-learn's 'adaptive' rate -- divide by 5 after a plateau -- acts
 * between epochs, in Python: fastopt.optim.ReduceOnPlateau.
 */
#ifndef FO_SCHEDULE_H
#define FO_SCHEDULE_H

#include <math.h>

/* Schedule kinds: ScheduleKind in fastopt/optim/_rules.pxd. */
typedef enum fo_schedule_kind {
    FO_SCHEDULE_CONSTANT = 0,
    FO_SCHEDULE_INVSCALING = 1,   /* lr / t^power_t */
    FO_SCHEDULE_STEP = 2,         /* lr gamma^floor((t - 1) / step_size) */
    FO_SCHEDULE_EXPONENTIAL = 3,  /* lr gamma^(t - 1) */
    FO_SCHEDULE_COSINE = 4        /* linear warm-up, then cosine to eta_min at t_max */
} fo_schedule_kind;

typedef struct {
    int kind;
    double power_t;
    double gamma;
    double step_size;
    double t_max;
    double eta_min;
    double warmup_steps;
} fo_schedule;

/* scikit-learn's 'optimal' rate, times `scale`, before the update at
 * sample count t (1-based): scale / (alpha (t0 + t - 1)). */
static inline double fo_lr_optimal(double scale, double alpha, double t0, double t)
{
    return scale / (alpha * (t0 + t - 1.0));
}

/* eta0 / t^power_t ('invscaling'). pow is as costly as the rest of a
 * per-sample update, so the common exponents take square roots: sqrt(t) is
 * correctly rounded (glibc's pow(t, 0.5) is an ulp off for ~0.1% of t),
 * sqrt(sqrt(t)) is within an ulp of pow(t, 0.25). */
static inline double fo_lr_invscaling(double eta0, double t, double power_t)
{
    if (power_t == 0.25) return eta0 / sqrt(sqrt(t));
    if (power_t == 0.5) return eta0 / sqrt(t);
    return eta0 / pow(t, power_t);
}

/* Learning rate at step t (1-based) of schedule s for base rate lr; NAN for
 * an unknown kind (fastopt.optim refuses those when a state is built). */
static inline double fo_schedule_lr(const fo_schedule *s, double lr, long long t)
{
    double progress;
    switch (s->kind) {
    case FO_SCHEDULE_CONSTANT:
        return lr;
    case FO_SCHEDULE_INVSCALING:
        return fo_lr_invscaling(lr, (double)t, s->power_t);
    case FO_SCHEDULE_STEP:
        return lr * pow(s->gamma, floor((t - 1) / s->step_size));
    case FO_SCHEDULE_EXPONENTIAL:
        return lr * pow(s->gamma, (double)(t - 1));
    case FO_SCHEDULE_COSINE:
        if (t <= s->warmup_steps) return lr * t / s->warmup_steps;
        progress = (t - 1 - s->warmup_steps) / (s->t_max - s->warmup_steps);
        if (progress > 1.0) progress = 1.0;
        return s->eta_min
               + (lr - s->eta_min) * 0.5 * (1.0 + cos(3.14159265358979323846 * progress));
    default:
        return NAN;
    }
}

#endif
