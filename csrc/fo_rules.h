/* fo_rules.h -- optimizer update rules over flat buffers.
 *
 * A step of a rule has two parts. Its per-step scalars (learning rate after
 * the schedule, bias corrections, decay factors, ...) are computed once per
 * step by fo_rule_begin: the common ones by the caller (fastopt/optim/
 * _rules.pyx), the rule's own by its fo_<rule>_begin function below. Then
 * its element-wise kernel (fo_rules_impl.h) makes a single pass over the
 * parameter, gradient and state arrays -- the memory-bound floor of a step --
 * reading the scalars from fo_coef, so the loops hold no pow/exp calls and
 * vectorise. Arithmetic is done in the parameter precision, like PyTorch.
 *
 * Which rules exist, their hyper-parameters, state and per-step scalars are
 * declared once in fastopt/optim/_rule_table.py; the structs and the
 * kind-switches are generated from it into fo_rule_table.h and
 * fo_rule_dispatch.h at build time.
 *
 * The kernels are written once in fo_rules_impl.h and instantiated here for
 * float and double by defining FO_REAL/FO_SUFFIX/FO_SQRT before each inclusion
 * (sqrtf for float: calling sqrt would widen every lane to double).
 */
#ifndef FO_RULES_H
#define FO_RULES_H

#include <math.h>
#include <stddef.h>
#include "fo_config.h"
#include "fo_schedule.h"

#include "fo_rule_table.h"

/* ---- per-step scalars of the rules that need them (st->t is this step) ---- */

/* Adagrad: lr / (1 + (t - 1) lr_decay). */
static void fo_adagrad_begin(const fo_rule_config *cfg, fo_rule_state *st, fo_coef *c)
{
    c->lr /= 1.0 + ((double)st->t - 1.0) * cfg->lr_decay;
}

/* Adam and its relatives: bias corrections 1 - beta1^t and sqrt(1 - beta2^t). */
static void fo_adam_begin(const fo_rule_config *cfg, fo_rule_state *st, fo_coef *c)
{
    c->bc1 = 1.0 - pow(cfg->beta1, (double)st->t);
    c->bc2_sqrt = sqrt(1.0 - pow(cfg->beta2, (double)st->t));
    c->decay = 1.0;
}

/* Decoupled weight decay: p *= 1 - lr wd before the step, no L2 gradient term. */
static void fo_decoupled_begin(const fo_rule_config *cfg, fo_rule_state *st, fo_coef *c)
{
    (void)st;
    c->decay = 1.0 - c->lr * cfg->weight_decay;
    c->weight_decay = 0.0;
}

static void fo_adamw_begin(const fo_rule_config *cfg, fo_rule_state *st, fo_coef *c)
{
    fo_adam_begin(cfg, st, c);
    fo_decoupled_begin(cfg, st, c);
}

/* NAdam: mu_t = beta1 (1 - 0.96^(t psi) / 2); the factors of g and m in the step. */
static void fo_nadam_begin(const fo_rule_config *cfg, fo_rule_state *st, fo_coef *c)
{
    const double t = (double)st->t;
    const double mu = cfg->beta1 * (1.0 - 0.5 * pow(0.96, t * cfg->momentum_decay));
    const double mu_next = cfg->beta1 * (1.0 - 0.5 * pow(0.96, (t + 1.0) * cfg->momentum_decay));
    c->bc2 = 1.0 - pow(cfg->beta2, t);
    st->mu_product = st->mu_product * mu;
    c->c_grad = c->lr * (1.0 - mu) / (1.0 - st->mu_product);
    c->c_m = c->lr * mu_next / (1.0 - st->mu_product * mu_next);
}

/* RAdam: rect = sqrt((r_t-4)(r_t-2) r_inf / ((r_inf-4)(r_inf-2) r_t)) when the
 * variance is tractable (r_t > 5), else 0 (an un-adapted momentum step). */
static void fo_radam_begin(const fo_rule_config *cfg, fo_rule_state *st, fo_coef *c)
{
    const double t = (double)st->t, b2t = pow(cfg->beta2, t);
    const double rho_inf = 2.0 / (1.0 - cfg->beta2) - 1.0;
    const double rho_t = rho_inf - 2.0 * t * b2t / (1.0 - b2t);
    fo_adam_begin(cfg, st, c);
    c->rect = rho_t > 5.0 ? sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                                 ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)) : 0.0;
    if (cfg->decoupled_weight_decay)
        fo_decoupled_begin(cfg, st, c);
}

/* ASGD: this step uses eta and mu from the state, then they advance:
 * eta = lr / (1 + lambd lr t)^alpha, mu = 1 / max(1, t - t0). */
static void fo_asgd_begin(const fo_rule_config *cfg, fo_rule_state *st, fo_coef *c)
{
    const double t = (double)st->t;
    c->eta = st->eta;
    c->mu = st->mu;
    c->decay = 1.0 - cfg->lambd * st->eta;
    st->eta = c->lr / pow(1.0 + cfg->lambd * c->lr * t, cfg->alpha);
    st->mu = 1.0 / (t - cfg->t0 > 1.0 ? t - cfg->t0 : 1.0);
}

#define FO_RULE_BEGIN_PART
#include "fo_rule_dispatch.h"
#undef FO_RULE_BEGIN_PART

/* ---- the kernels, once per precision ---- */

#define FO_REAL float
#define FO_SUFFIX _f32
#define FO_SQRT sqrtf
#include "fo_rules_impl.h"
#undef FO_REAL
#undef FO_SUFFIX
#undef FO_SQRT

#define FO_REAL double
#define FO_SUFFIX _f64
#define FO_SQRT sqrt
#include "fo_rules_impl.h"
#undef FO_REAL
#undef FO_SUFFIX
#undef FO_SQRT

#endif
