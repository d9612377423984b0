/*
 * drill/score.c — a drill's logs and its scoreboard: per team, log lines
 * (proxy, DNS, Suricata eve) with each expected value planted at its
 * inject's time, and, from the sightings that came back, time to detect,
 * time to report, missed and false detections against each window (a
 * table, CSV, SVG, and JSON for the console).
 */
#include <stdlib.h>
#include <string.h>

#include "drill/drill_int.h"

#define US 1000000LL

/* Each expectation of the scenario, in flow order, with its inject's time. */
struct expect {
	const char *inject, *name, *kind, *value;
	char indicator[128];
	int64_t at_us, window_us;
	const json_t *teams;
};

static int team_in(const json_t *teams, const char *team)
{
	const json_t *t;
	size_t i;

	json_array_foreach (teams, i, t)
		if (json_string_value(t) && strcmp(json_string_value(t), team) == 0)
			return 1;
	return 0;
}

static size_t expectations(const struct drill_ctx *c, const struct drill_run *r, struct expect *out,
                           size_t max)
{
	const json_t *step;
	size_t i, n = 0;

	json_array_foreach (json_object_get(r->sc, "inject_flow"), i, step) {
		const json_t *inj = drill__find(json_object_get(r->sc, "injects"),
		                                drill__str(step, "inject_uuid"));
		const json_t *x = json_object_get(inj, "x_tix_expect");
		struct expect *e = &out[n];
		int64_t w;

		if (x == NULL || n >= max)
			continue;
		e->inject = drill__str(inj, "uuid");
		e->name = drill__str(inj, "name") ? drill__str(inj, "name") : e->inject;
		e->kind = drill__str(x, "kind");
		e->value = drill__str(x, "value");
		drill__object_id(r, drill__str(x, "indicator"), e->indicator);
		e->at_us = drill__published_at(r, e->inject);
		if (e->at_us == 0 && r->d.started_us)
			e->at_us = r->d.started_us + r->d.paused_total_us +
			           (int64_t)(drill__at(step) * (double)US);
		w = json_is_integer(json_object_get(x, "window"))
		            ? (int64_t)json_integer_value(json_object_get(x, "window"))
		            : DRILL_EXTENSION_DEFAULT_WINDOW;
		/* bounded as drill_parse bounds it (a scenario an older tix stored) */
		e->window_us = (w < 1 ? 1 : w > DRILL_MAX_OFFSET ? DRILL_MAX_OFFSET : w) * US;
		e->teams = json_object_get(x, "teams");
		n++;
	}
	return n;
}

/* ---- logs ------------------------------------------------------------------ */

static void line(FILE *out, const char *kind, const char *value, int64_t at_us, unsigned n)
{
	char t[32];

	tix_time_format_us(at_us, 3, t);
	if (strcmp(kind, "url") == 0)
		fprintf(out,
		        "%s proxy[812]: 10.20.%u.%u TCP_MISS/200 %u GET %s - HIER_DIRECT/203.0.113.%u "
		        "text/html\n",
		        t, n % 7, 10 + n % 200, 900 + n * 37 % 4000, value, 1 + n % 250);
	else if (strcmp(kind, "domain") == 0)
		fprintf(out,
		        "%s named[431]: client 10.20.%u.%u#%u: query: %s IN A + (10.20.0.53)\n", t,
		        n % 7, 10 + n % 200, 32768 + n * 131 % 28000, value);
	else
		fprintf(out,
		        "{\"timestamp\":\"%s\",\"flow_id\":%u,\"event_type\":\"flow\","
		        "\"src_ip\":\"10.20.%u.%u\",\"src_port\":%u,\"dest_ip\":\"%s\","
		        "\"dest_port\":443,\"proto\":\"TCP\",\"app_proto\":\"tls\"}\n",
		        t, 100000 + n * 7919, n % 7, 10 + n % 200, 32768 + n * 131 % 28000, value);
}

static const char *const noise_domains[] = {"www.example.org", "mail.example.net",
                                            "updates.example.com", "cdn.example.org"};
static const char *const noise_urls[] = {"http://www.example.org/index.html",
                                         "http://intranet.example.net/login",
                                         "http://cdn.example.org/lib.js"};
static const char *const noise_ips[] = {"192.0.2.10", "198.51.100.20", "192.0.2.33"};

enum tix_err drill_logs(const struct drill_ctx *c, const char *id, const char *team,
                        int64_t delay_us, FILE *out, struct tix_error *err)
{
	struct drill_run r;
	struct expect *x = calloc(DRILL_MAX_EXPECT, sizeof(*x));
	size_t n, k = 0;
	enum tix_err e;

	if (x == NULL)
		return tix_error_set(err, TIX_ENOMEM, "drill", "out of memory");
	if ((e = drill__open(c, id, &r, err)) != TIX_OK) {
		free(x);
		return e;
	}
	if (r.d.started_us == 0) {
		drill__close(&r);
		free(x);
		return tix_error_set(err, TIX_EUSAGE, id,
		                     "the exercise has not started: its times are not known yet");
	}
	n = expectations(c, &r, x, DRILL_MAX_EXPECT);
	for (size_t i = 0; i < n; i++) {
		int64_t at = x[i].at_us + delay_us;

		/* background traffic before and after, then the planted value */
		for (int j = 0; j < 3; j++, k++) {
			const char *kind = x[i].kind;
			const char *v = strcmp(kind, "url") == 0      ? noise_urls[k % 3]
			                : strcmp(kind, "domain") == 0 ? noise_domains[k % 4]
			                                              : noise_ips[k % 3];

			line(out, kind, v, at - (3 - j) * 20 * US, (unsigned)k);
		}
		if (team_in(x[i].teams, team))
			line(out, x[i].kind, x[i].value, at, (unsigned)k++);
		line(out, x[i].kind,
		     strcmp(x[i].kind, "url") == 0      ? noise_urls[k % 3]
		     : strcmp(x[i].kind, "domain") == 0 ? noise_domains[k % 4]
		                                        : noise_ips[k % 3],
		     at + 15 * US, (unsigned)k);
		k++;
	}
	drill__close(&r);
	free(x);
	return ferror(out) ? tix_error_set(err, TIX_EIO, "logs", "cannot write the logs") : TIX_OK;
}

/* ---- the scoreboard ------------------------------------------------------------ */

struct sighting {
	char team[128];
	char of[128];
	int64_t seen_us, reported_us;
};

struct collect {
	struct sighting *v;
	size_t n, cap;
	const struct expect *x;
	size_t nx;
	int oom;
};

static int64_t ts(const json_t *v)
{
	struct tix_time t;

	if (!json_is_string(v) || tix_time_parse(json_string_value(v), &t, NULL) != TIX_OK)
		return 0;
	return tix_time_to_us(&t);
}

static int collect_row(void *arg, const struct store_row *row)
{
	struct collect *c = arg;
	json_t *o;
	const char *of;
	size_t i;

	if ((o = json_loadb(row->body, row->body_len, 0, NULL)) == NULL)
		return 0;
	of = json_string_value(json_object_get(o, "sighting_of_ref"));
	for (i = 0; of && i < c->nx; i++)
		if (strcmp(c->x[i].indicator, of) == 0)
			break;
	if (of && i < c->nx) {
		struct sighting *s;

		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 64;
			struct sighting *v = realloc(c->v, cap * sizeof(*v));

			if (v == NULL) {
				c->oom = 1;
				json_decref(o);
				return 1;
			}
			c->v = v;
			c->cap = cap;
		}
		s = &c->v[c->n++];
		snprintf(s->team, sizeof(s->team), "%s",
		         row->aud.owner_org ? row->aud.owner_org : "operator");
		snprintf(s->of, sizeof(s->of), "%s", of);
		s->seen_us = ts(json_object_get(o, "first_seen"));
		if (s->seen_us == 0)
			s->seen_us = ts(json_object_get(o, "created"));
		s->reported_us = row->date_added;
	}
	json_decref(o);
	return 0;
}

struct cell {
	const char *status; /* detected, late, missed */
	int64_t detect_us, report_us;
};

static void judge(const struct collect *cs, const struct expect *x, const char *team,
                  struct cell *out, int *false_hits)
{
	out->status = "missed";
	out->detect_us = out->report_us = 0;
	for (size_t i = 0; i < cs->n; i++) {
		const struct sighting *s = &cs->v[i];

		if (strcmp(s->team, team) != 0 || strcmp(s->of, x->indicator) != 0)
			continue;
		if (!team_in(x->teams, team) || x->at_us == 0 || s->seen_us < x->at_us) {
			(*false_hits)++; /* not expected of this team, or before the inject */
			continue;
		}
		if (out->detect_us == 0 || s->seen_us < out->detect_us)
			out->detect_us = s->seen_us;
		if (out->report_us == 0 || s->reported_us < out->report_us)
			out->report_us = s->reported_us;
	}
	if (out->detect_us)
		out->status = out->detect_us <= x->at_us + x->window_us ? "detected" : "late";
}

/* One CSV row (RFC 4180): team, inject and indicator come from the
 * scenario and are quoted as need be; the rest are tix's own numbers,
 * times and words. */
static void csv_row(FILE *csv, const char *team, const char *inject, const char *indicator,
                    const char *rest)
{
	struct tix_buf b;

	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	tix_buf_add_csv(&b, team);
	tix_buf_addc(&b, ',');
	tix_buf_add_csv(&b, inject);
	tix_buf_addc(&b, ',');
	tix_buf_add_csv(&b, indicator);
	tix_buf_adds(&b, rest);
	tix_buf_addc(&b, '\n');
	fwrite(tix_buf_str(&b), 1, tix_buf_len(&b), csv);
	tix_buf_release(&b);
}

static void secs(char *buf, size_t n, int64_t from, int64_t to)
{
	if (to == 0)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%lld", (long long)((to - from) / US));
}

enum tix_err drill_score(const struct drill_ctx *c, const char *id, FILE *out, FILE *csv, FILE *svg,
                         json_t *js, struct tix_error *err)
{
	struct drill_run r;
	struct expect *x = calloc(DRILL_MAX_EXPECT, sizeof(*x));
	struct collect cs = {0};
	struct tix_buf sv;
	const json_t *teams, *t;
	int64_t t0 = 0, t1 = 0;
	size_t n, i, k, nteams;
	enum tix_err e;

	if (x == NULL)
		return tix_error_set(err, TIX_ENOMEM, "drill", "out of memory");
	if ((e = drill__open(c, id, &r, err)) != TIX_OK) {
		free(x);
		return e;
	}
	n = expectations(c, &r, x, DRILL_MAX_EXPECT);
	cs.x = x;
	cs.nx = n;
	/* Only the sightings of each expected indicator (the store's index of
	 * sighting_of_ref), each indicator once. */
	for (i = 0; e == TIX_OK && i < n; i++) {
		for (k = 0; k < i && strcmp(x[k].indicator, x[i].indicator) != 0; k++)
			;
		if (k == i)
			e = store_referrers(c->s, NULL, x[i].indicator, "sighting", collect_row,
			                    &cs, err);
	}
	if (e == TIX_OK && cs.oom)
		e = tix_error_set(err, TIX_ENOMEM, "drill", "out of memory");
	if (e != TIX_OK)
		goto out;
	teams = json_object_get(json_object_get(r.sc, "exercise"), "x_tix_teams");
	nteams = json_array_size(teams);
	if (js) {
		json_object_set_new(js, "exercise", json_string(r.d.id));
		json_object_set_new(js, "name", json_string(r.d.name));
		json_object_set_new(js, "state", json_string(r.d.state));
		json_object_set_new(js, "teams", json_array());
	}
	if (out)
		fprintf(out, "exercise %s  %s  %s\n", r.d.id, r.d.name, r.d.state);
	if (out)
		fprintf(out, "%-16s %-28s %-9s %8s %8s\n", "team", "inject", "result", "detect_s",
		        "report_s");
	if (csv)
		fprintf(csv, "team,inject,indicator,inject_at,window_s,result,first_seen,reported,"
		             "time_to_detect_s,time_to_report_s,false_detections\n");
	for (i = 0; i < n; i++) {
		if (x[i].at_us && (t0 == 0 || x[i].at_us < t0))
			t0 = x[i].at_us;
		if (x[i].at_us + x[i].window_us > t1)
			t1 = x[i].at_us + x[i].window_us;
	}
	/* The SVG is written whole at the end; names go in escaped. */
	tix_buf_init(&sv, TIX_BUF_UNLIMITED);
	tix_buf_addf(&sv,
	             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"820\" height=\"%zu\" "
	             "font-family=\"sans-serif\" font-size=\"12\">\n"
	             "<title>tix drill %s: scoreboard timeline</title>\n",
	             60 + nteams * 40, r.d.id);
	json_array_foreach (teams, k, t) {
		const char *team = json_string_value(t);
		int false_hits = 0, detected = 0, late = 0, missed = 0;
		int64_t sum_detect = 0;
		json_t *jt = js ? json_array() : NULL;

		tix_buf_addf(&sv, "<text x=\"10\" y=\"%zu\">", 45 + k * 40);
		tix_buf_add_xml(&sv, team);
		tix_buf_adds(&sv, "</text>\n");
		for (i = 0; i < n; i++) {
			struct cell cl;
			char ds[32], rs[32], a[32], b[32], w[32];

			judge(&cs, &x[i], team, &cl, &false_hits);
			if (!team_in(x[i].teams, team))
				continue;
			secs(ds, sizeof(ds), x[i].at_us, cl.detect_us);
			secs(rs, sizeof(rs), x[i].at_us, cl.report_us);
			if (out)
				fprintf(out, "%-16s %-28.28s %-9s %8s %8s\n", team, x[i].name,
				        cl.status, ds, rs);
			detected += strcmp(cl.status, "detected") == 0;
			late += strcmp(cl.status, "late") == 0;
			missed += strcmp(cl.status, "missed") == 0;
			if (cl.detect_us)
				sum_detect += cl.detect_us - x[i].at_us;
			if (jt)
				json_array_append_new(
				        jt,
				        json_pack(
				                "{s:s, s:s, s:s, s:s, s:I, s:s, s:s?, s:s?, s:o, s:o}",
				                "inject", x[i].inject, "name", x[i].name,
				                "indicator", x[i].indicator, "inject_at",
				                x[i].at_us ? tix_time_format_us(x[i].at_us, 0, w)
				                           : "",
				                "window_s", (json_int_t)(x[i].window_us / US),
				                "result", cl.status, "first_seen",
				                cl.detect_us
				                        ? tix_time_format_us(cl.detect_us, 0, a)
				                        : NULL,
				                "reported",
				                cl.report_us
				                        ? tix_time_format_us(cl.report_us, 0, b)
				                        : NULL,
				                "time_to_detect_s",
				                cl.detect_us
				                        ? json_integer((cl.detect_us - x[i].at_us) /
				                                       US)
				                        : json_null(),
				                "time_to_report_s",
				                cl.report_us
				                        ? json_integer((cl.report_us - x[i].at_us) /
				                                       US)
				                        : json_null()));
			if (csv) {
				char rest[256];

				snprintf(rest, sizeof(rest), ",%s,%lld,%s,%s,%s,%s,%s,",
				         x[i].at_us ? tix_time_format_us(x[i].at_us, 0, w) : "",
				         (long long)(x[i].window_us / US), cl.status,
				         cl.detect_us ? tix_time_format_us(cl.detect_us, 0, a) : "",
				         cl.report_us ? tix_time_format_us(cl.report_us, 0, b) : "",
				         ds, rs);
				csv_row(csv, team, x[i].inject, x[i].indicator, rest);
			}
			if (t1 > t0) {
				double sx = 700.0 / (double)(t1 - t0);
				double x0 = 110 + (double)(x[i].at_us - t0) * sx;
				double xw = (double)x[i].window_us * sx;

				tix_buf_addf(
				        &sv,
				        "<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" height=\"16\" "
				        "fill=\"#dde8f5\"><title>",
				        x0, 32 + k * 40, xw);
				tix_buf_add_xml(&sv, x[i].name);
				tix_buf_adds(&sv, " window</title></rect>\n");
				if (cl.detect_us)
					tix_buf_addf(&sv,
					             "<circle cx=\"%.1f\" cy=\"%zu\" r=\"5\" "
					             "fill=\"%s\"><title>",
					             110 + (double)(cl.detect_us - t0) * sx,
					             40 + k * 40,
					             strcmp(cl.status, "late") == 0 ? "#d08000"
					                                            : "#2a8a2a");
				else
					tix_buf_addf(&sv,
					             "<text x=\"%.1f\" y=\"%zu\" "
					             "fill=\"#b00000\">missed<title>",
					             x0 + 2, 45 + k * 40);
				tix_buf_add_xml(&sv, x[i].name);
				if (cl.detect_us)
					tix_buf_addf(&sv, ": %s after %s s</title></circle>\n",
					             cl.status, ds);
				else
					tix_buf_adds(&sv, "</title></text>\n");
			}
		}
		if (out)
			fprintf(out, "%-16s detected %d, late %d, missed %d, false %d\n", team,
			        detected, late, missed, false_hits);
		if (out && detected + late)
			fprintf(out, "%-16s mean time to detect %lld s\n", team,
			        (long long)(sum_detect / (detected + late) / US));
		if (csv && false_hits) {
			char rest[64];

			snprintf(rest, sizeof(rest), ",,,false,,,,,%d", false_hits);
			csv_row(csv, team, "", "", rest);
		}
		if (jt)
			json_array_append_new(
			        json_object_get(js, "teams"),
			        json_pack("{s:s, s:i, s:i, s:i, s:i, s:o, s:o}", "team", team,
			                  "detected", detected, "late", late, "missed", missed,
			                  "false_detections", false_hits, "mean_time_to_detect_s",
			                  detected + late ? json_integer(sum_detect /
			                                                 (detected + late) / US)
			                                  : json_null(),
			                  "injects", jt));
	}
	tix_buf_adds(&sv, "</svg>\n");
	if (svg)
		fwrite(tix_buf_str(&sv), 1, tix_buf_len(&sv), svg);
	tix_buf_release(&sv);
out:
	free(cs.v);
	free(x);
	drill__close(&r);
	return e;
}
