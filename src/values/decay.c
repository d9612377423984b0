/*
 * values/decay.c — how much an indicator is still worth: the polynomial
 * decay of MISP's and OpenCTI's models, score = base × (1 − (t/τ)^(1/δ)),
 * with base from the indicator's confidence, and lifetime τ and speed δ by
 * the kind of value it carries (docs/decay.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "values/values.h"

void values_decay_defaults(struct values_decay_model *m)
{
	static const struct values_decay_rule rules[VALUES_KINDS] = {
	        [0] = {180, 1.0}, /* any other value */
	        [VALUES_DOMAIN] = {90, 1.0},
	        [VALUES_EMAIL] = {180, 1.0},
	        [VALUES_URL] = {60, 1.0},
	        [VALUES_HASH] = {365, 0.5},
	        [VALUES_IP] = {30, 2.0},
	        [VALUES_DOMAIN_SUFFIX] = {90, 1.0},
	};

	memcpy(m->rule, rules, sizeof(rules));
	m->floor = 20;
	m->default_confidence = 50;
}

double values_decay_score(const struct values_decay_rule *r, double base, double age_days)
{
	double x;

	if (base <= 0)
		return 0;
	if (age_days <= 0)
		return base;
	if (r->lifetime_days <= 0 || age_days >= r->lifetime_days)
		return 0;
	x = pow(age_days / r->lifetime_days, 1.0 / (r->speed > 0 ? r->speed : 1.0));
	return base * (1.0 - x);
}
