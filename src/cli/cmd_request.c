/*
 * cli/cmd_request.c — `tix request`: cross-border preservation requests
 * between 24/7 contact points (new, inbox, show, the transitions, verify)
 * and the 24/7 directory (contact add / rotate-key, directory).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "request/request.h"

#define DEFAULT_COLLECTION "preservation"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix request COMMAND [--db PATH] ...\n\n"
	        "  new --to COUNTRY --as ORG --template FILE | --interactive [--to-org ORG]\n"
	        "      [--draft] [--collection NAME]   prints the new request's id last\n"
	        "  new --follow ID --as ORG [--template FILE]   Article 30: a new request to the\n"
	        "      country a disclosure named, with the disclosed traffic data\n"
	        "  inbox --as ORG [--json]             requests ORG is a party to, with reminders\n"
	        "  show ID --as ORG [--json]           a request and its transitions\n"
	        "  send|ack|execute|disclose|decline|extend|mla ID --as ORG [--reason TEXT]\n"
	        "      disclose: --next-country CC [--provider TEXT] [--traffic FILE]\n"
	        "      mla: --reference REF (the mutual-assistance request)\n"
	        "  verify ID | verify --file FILE      every signature and link of the chain\n"
	        "  contact add --org ORG --country CC [--languages en,de] [--hours TEXT]\n"
	        "      [--channels tix,phone:+49...]   publish a 24/7 contact point (makes its key)\n"
	        "  contact rotate-key --org ORG        a new key, announced signed by the old one\n"
	        "  directory [--json]                  the 24/7 directory this node holds\n"
	        "  extension                           the extension-definitions (JSON)\n\n"
	        "Requests and directory entries are written to the collection --collection\n"
	        "(default '" DEFAULT_COLLECTION
	        "'), which peers synchronise. TIX_NOW=TIMESTAMP sets the\n"
	        "clock (tests). See docs/preservation.md.\n");
}

struct opts {
	const char *db, *to, *to_org, *as, *tmpl, *follow, *collection, *reason, *next_country,
	        *provider, *traffic, *reference, *file, *org, *country, *languages, *hours,
	        *channels;
	int draft, interactive, json;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"to", required_argument, NULL, 't'},
	        {"to-org", required_argument, NULL, 'T'},
	        {"as", required_argument, NULL, 'a'},
	        {"template", required_argument, NULL, 'm'},
	        {"follow", required_argument, NULL, 'f'},
	        {"collection", required_argument, NULL, 'c'},
	        {"reason", required_argument, NULL, 'r'},
	        {"next-country", required_argument, NULL, 'n'},
	        {"provider", required_argument, NULL, 'p'},
	        {"traffic", required_argument, NULL, 'x'},
	        {"reference", required_argument, NULL, 'R'},
	        {"file", required_argument, NULL, 'F'},
	        {"org", required_argument, NULL, 'o'},
	        {"country", required_argument, NULL, 'C'},
	        {"languages", required_argument, NULL, 'l'},
	        {"hours", required_argument, NULL, 'H'},
	        {"channels", required_argument, NULL, 'L'},
	        {"draft", no_argument, NULL, 'D'},
	        {"interactive", no_argument, NULL, 'i'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int ch;

	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->db = optarg; break;
		case 't': o->to = optarg; break;
		case 'T': o->to_org = optarg; break;
		case 'a': o->as = optarg; break;
		case 'm': o->tmpl = optarg; break;
		case 'f': o->follow = optarg; break;
		case 'c': o->collection = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'n': o->next_country = optarg; break;
		case 'p': o->provider = optarg; break;
		case 'x': o->traffic = optarg; break;
		case 'R': o->reference = optarg; break;
		case 'F': o->file = optarg; break;
		case 'o': o->org = optarg; break;
		case 'C': o->country = optarg; break;
		case 'l': o->languages = optarg; break;
		case 'H': o->hours = optarg; break;
		case 'L': o->channels = optarg; break;
		case 'D': o->draft = 1; break;
		case 'i': o->interactive = 1; break;
		case 'j': o->json = 1; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	return 0;
}

static void print_status_line(const struct request_status *st)
{
	char t[32];

	printf("%s  %-19s  %s  %s(%s) -> %s(%s)", st->id, st->state, st->case_reference,
	       st->requesting_org, st->requesting_country, st->requested_org,
	       st->requested_country);
	if (st->preserve_until_us)
		printf("  preserved until %s", tix_time_format_us(st->preserve_until_us, 3, t));
	if (st->turn[0])
		printf("  turn: %s", st->turn);
	if (!st->verified)
		printf("  NOT VERIFIED");
	printf("\n");
}

static json_t *status_json(const struct request_status *st)
{
	char a[32], b[32], c[32], d[32];
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i}", "id", st->id,
	                      "state", st->state, "case_reference", st->case_reference,
	                      "requesting_contact", st->requesting_org, "requested_contact",
	                      st->requested_org, "requesting_country", st->requesting_country,
	                      "requested_country", st->requested_country, "verified", st->verified,
	                      "transitions", (int)st->transitions);

	if (j == NULL)
		return NULL;
	if (st->turn[0])
		json_object_set_new(j, "turn", json_string(st->turn));
	if (st->sent_us)
		json_object_set_new(j, "sent", json_string(tix_time_format_us(st->sent_us, 3, a)));
	if (st->acknowledged_us)
		json_object_set_new(j, "acknowledged",
		                    json_string(tix_time_format_us(st->acknowledged_us, 3, b)));
	if (st->executed_us)
		json_object_set_new(j, "executed",
		                    json_string(tix_time_format_us(st->executed_us, 3, c)));
	if (st->preserve_until_us)
		json_object_set_new(j, "preserve_until",
		                    json_string(tix_time_format_us(st->preserve_until_us, 3, d)));
	if (st->next_country[0])
		json_object_set_new(j, "next_country", json_string(st->next_country));
	if (st->mla_reference[0])
		json_object_set_new(j, "mla_reference", json_string(st->mla_reference));
	if (st->preceding[0])
		json_object_set_new(j, "preceding_request_ref", json_string(st->preceding));
	if (!st->verified)
		json_object_set_new(j, "problem", json_string(st->problem));
	return j;
}

static void audit_read(struct store *s, const char *org, const char *ids, const char *detail)
{
	struct store_audit_entry ae;
	struct tix_time now;
	struct tix_error err;
	const char *who = getenv("USER");

	if (ids == NULL || !*ids)
		return;
	tix_time_now(&now);
	ae = (struct store_audit_entry){
	        tix_time_to_us(&now), "read", who && *who ? who : "operator",
	        org ? org : "",       ids,    detail};
	if (store_audit_append(s, &ae, 1, &err) != TIX_OK)
		cli_print_error("request", &err);
}

/* Reads a JSON file (or "-"). */
static json_t *read_json(const char *path, size_t max, struct tix_error *err)
{
	char *data = NULL;
	size_t len = 0;
	json_t *v;

	if (cli_read_input(path, max, &data, &len, err) != TIX_OK)
		return NULL;
	v = stix_json_parse(data, len, path, err);
	free(data);
	return v;
}

/* --interactive: each Article 29(2) field asked for on the terminal. */
static json_t *ask_template(struct tix_error *err)
{
	static const char *const keys[] = {"requesting_authority",
	                                   "offence",
	                                   "summary",
	                                   "data",
	                                   "relationship",
	                                   "custodian",
	                                   "necessity",
	                                   "case_reference",
	                                   NULL};
	char line[8192];
	json_t *t = json_object(), *ids = json_array();
	json_t *out;
	struct tix_buf b;

	for (int i = 0; keys[i]; i++) {
		fprintf(stderr, "%s: ", keys[i]);
		if (fgets(line, sizeof(line), stdin) == NULL)
			break;
		line[strcspn(line, "\n")] = '\0';
		if (*line)
			json_object_set_new(t, keys[i], json_string(line));
	}
	json_object_set_new(t, "mla_intent", json_true());
	fprintf(stderr, "identifiers, one per line as KIND VALUE (account, email, ipv4, ipv6, "
	                "domain, url, phone, device, payment, other); an empty line ends:\n");
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *sp;

		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			break;
		sp = strchr(line, ' ');
		if (sp == NULL) {
			fprintf(stderr, "  KIND VALUE, e.g. email someone@example.org\n");
			continue;
		}
		*sp = '\0';
		json_array_append_new(ids, json_pack("{s:s, s:s}", "kind", line, "value", sp + 1));
	}
	json_object_set_new(t, "identifiers", ids);
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	stix_json_dump(t, &b);
	json_decref(t);
	out = request_template_parse(tix_buf_str(&b), tix_buf_len(&b), "interactive", err);
	tix_buf_release(&b);
	return out;
}

static int fail(struct tix_error *err)
{
	cli_print_error("request", err);
	return err->code == TIX_EUSAGE ? EXIT_USAGE : cli_exit_code(err->code);
}

static int do_new(struct request_ctx *c, const struct opts *o)
{
	struct tix_error err;
	json_t *tmpl = NULL;
	char id[128];
	int rc = 0;

	tix_error_clear(&err);
	if (!o->as || (!o->follow && !o->to && !o->to_org) ||
	    (!o->follow && !o->tmpl && !o->interactive) || (o->tmpl && o->interactive)) {
		fprintf(stderr, "tix request new: --to COUNTRY --as ORG and --template FILE (or "
		                "--interactive), or --follow ID --as ORG\n");
		return EXIT_USAGE;
	}
	if (o->tmpl) {
		char *data = NULL;
		size_t len = 0;

		if (cli_read_input(o->tmpl, REQUEST_MAX_TEMPLATE, &data, &len, &err) != TIX_OK)
			return fail(&err);
		tmpl = request_template_parse(data, len, o->tmpl, &err);
		free(data);
		if (tmpl == NULL) {
			cli_print_error("request new", &err);
			fprintf(stderr, "tix request new: refused; nothing was written\n");
			return EXIT_INVALID;
		}
	} else if (o->interactive) {
		if ((tmpl = ask_template(&err)) == NULL) {
			cli_print_error("request new", &err);
			return EXIT_INVALID;
		}
	}
	if (request_new(c, tmpl, o->to, o->to_org, o->as, o->draft, o->follow, id, &err) !=
	    TIX_OK) {
		rc = fail(&err);
	} else {
		printf("%s %s\n", o->draft ? "draft" : "sent", id);
	}
	json_decref(tmpl);
	return rc;
}

struct inbox {
	const char *org;
	int64_t now;
	int json;
	json_t *list;
	struct tix_buf ids;
	size_t n;
};

static void print_reminder(void *arg, const char *line)
{
	json_t *list = arg;

	if (list)
		json_array_append_new(list, json_string(line));
	else
		printf("  %s\n", line);
}

static int inbox_row(void *arg, const struct request_status *st)
{
	struct inbox *b = arg;

	tix_buf_addf(&b->ids, "%s%s\n", tix_buf_len(&b->ids) ? "" : "\n", st->id);
	b->n++;
	if (b->json) {
		json_t *j = status_json(st), *r = json_array();

		request_reminders(st, b->org, b->now, print_reminder, r);
		json_object_set_new(j, "reminders", r);
		json_array_append_new(b->list, j);
	} else {
		print_status_line(st);
		request_reminders(st, b->org, b->now, print_reminder, NULL);
	}
	return 0;
}

static int do_inbox(struct request_ctx *c, const struct opts *o)
{
	struct inbox b = {o->as, c->now_us, o->json, NULL, {0}, 0};
	struct tix_error err;
	int rc = 0;

	if (!o->as) {
		fprintf(stderr, "tix request inbox: --as ORG\n");
		return EXIT_USAGE;
	}
	b.list = json_array();
	tix_buf_init(&b.ids, TIX_BUF_UNLIMITED);
	if (request_list(c, o->as, inbox_row, &b, &err) != TIX_OK)
		rc = fail(&err);
	else if (o->json) {
		json_dumpf(b.list, stdout, JSON_INDENT(2));
		printf("\n");
	} else if (b.n == 0) {
		printf("no requests for %s\n", o->as);
	}
	audit_read(c->s, o->as, tix_buf_str(&b.ids), "tix request inbox");
	json_decref(b.list);
	tix_buf_release(&b.ids);
	return rc;
}

static void print_version(const json_t *v)
{
	const json_t *tr = json_object_get(v, "tix_transition");
	const json_t *d = json_object_get(tr, "disclosure");

	printf("  %lld. %-20s by %s at %s",
	       (long long)json_integer_value(json_object_get(tr, "seq")),
	       json_string_value(json_object_get(tr, "action")),
	       json_string_value(json_object_get(tr, "by")),
	       json_string_value(json_object_get(v, "modified")));
	if (json_object_get(tr, "reason"))
		printf("; reason: %s", json_string_value(json_object_get(tr, "reason")));
	if (d)
		printf("; next country %s%s%s",
		       json_string_value(json_object_get(d, "next_country")),
		       json_object_get(d, "provider") ? ", provider " : "",
		       json_object_get(d, "provider")
		               ? json_string_value(json_object_get(d, "provider"))
		               : "");
	if (json_object_get(tr, "mla_reference"))
		printf("; MLA %s", json_string_value(json_object_get(tr, "mla_reference")));
	printf("\n");
}

static int do_show(struct request_ctx *c, const struct opts *o, const char *id)
{
	struct request_status st;
	struct tix_error err;
	json_t *vs = NULL;
	char ids[300];

	if (!o->as || !id) {
		fprintf(stderr, "tix request show: ID --as ORG\n");
		return EXIT_USAGE;
	}
	if (request_load(c, id, o->as, &vs, &st, &err) != TIX_OK)
		return fail(&err);
	if (o->json) {
		json_t *j = json_pack("{s:o, s:O}", "request", status_json(&st), "versions", vs);

		json_dumpf(j, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(j);
	} else {
		const json_t *r = json_array_get(vs, 0);
		size_t i;
		json_t *v, *x;

		print_status_line(&st);
		if (!st.verified)
			printf("  NOT VERIFIED: %s\n", st.problem);
		static const char *const fields[] = {"requesting_authority",
		                                     "offence",
		                                     "summary",
		                                     "data",
		                                     "relationship",
		                                     "custodian",
		                                     "necessity",
		                                     "urgency",
		                                     NULL};
		for (int k = 0; fields[k]; k++)
			printf("  %s: %s\n", fields[k],
			       json_string_value(json_object_get(r, fields[k])));
		json_array_foreach (json_object_get(r, "identifiers"), i, x)
			printf("  identifier: %s %s\n",
			       json_string_value(json_object_get(x, "kind")),
			       json_string_value(json_object_get(x, "value")));
		printf("transitions:\n");
		json_array_foreach (vs, i, v)
			print_version(v);
		request_reminders(&st, o->as, c->now_us, print_reminder, NULL);
	}
	snprintf(ids, sizeof(ids), "\n%s\n", id);
	audit_read(c->s, o->as, ids, "tix request show");
	json_decref(vs);
	return st.verified ? 0 : EXIT_INVALID;
}

static int do_act(struct request_ctx *c, const struct opts *o, const char *verb, const char *id)
{
	struct request_status st;
	struct tix_error err;
	json_t *args = json_object();
	int rc = 0;

	tix_error_clear(&err);
	if (!o->as || !id) {
		fprintf(stderr, "tix request %s: ID --as ORG\n", verb);
		json_decref(args);
		return EXIT_USAGE;
	}
	if (o->reason)
		json_object_set_new(args, "reason", json_string(o->reason));
	if (o->next_country)
		json_object_set_new(args, "next_country", json_string(o->next_country));
	if (o->provider)
		json_object_set_new(args, "provider", json_string(o->provider));
	if (o->reference)
		json_object_set_new(args, "reference", json_string(o->reference));
	if (o->traffic) {
		json_t *t = read_json(o->traffic, REQUEST_MAX_TEMPLATE, &err);

		if (t == NULL) {
			json_decref(args);
			return fail(&err);
		}
		json_object_set_new(args, "traffic", t);
	}
	if (request_act(c, id, verb, o->as, args, &st, &err) != TIX_OK) {
		rc = fail(&err);
		fprintf(stderr, "tix request %s: the request is unchanged\n", verb);
	} else {
		print_status_line(&st);
	}
	json_decref(args);
	return rc;
}

static int do_verify(struct request_ctx *c, const struct opts *o, const char *id)
{
	struct request_status st;
	struct tix_error err;
	json_t *vs = NULL, *in;
	enum tix_err e;

	tix_error_clear(&err);
	if (!!o->file == !!id) {
		fprintf(stderr, "tix request verify: ID, or --file FILE\n");
		return EXIT_USAGE;
	}
	if (o->file) {
		if ((in = read_json(o->file, 64u << 20, &err)) == NULL)
			return fail(&err);
		/* One version, a list of them, a bundle, or `show --json`. */
		if (json_is_array(in))
			vs = json_incref(in);
		else if (json_is_array(json_object_get(in, "versions")))
			vs = json_incref(json_object_get(in, "versions"));
		else if (json_is_array(json_object_get(in, "objects")))
			vs = json_incref(json_object_get(in, "objects"));
		else
			vs = json_pack("[O]", in);
		json_decref(in);
		e = request_verify(c, vs, &st, &err);
	} else {
		if (request_load(c, id, NULL, &vs, &st, &err) != TIX_OK)
			return fail(&err);
		e = request_verify(c, vs, &st, &err);
	}
	json_decref(vs);
	if (e != TIX_OK) {
		cli_print_error("request verify", &err);
		printf("BROKEN: %s: %s\n", err.where, err.msg);
		return EXIT_INVALID;
	}
	if (st.transitions == 0)
		printf("verified: %s: this version's signature, its signer's key and its place in "
		       "the chain this node holds; %s\n",
		       st.id, st.state);
	else
		printf("verified: %s: %zu transition%s signed and linked; %s\n", st.id,
		       st.transitions, st.transitions == 1 ? "" : "s", st.state);
	return 0;
}

static int print_contact(void *arg, const struct request_contact *cp)
{
	json_t *list = arg;

	if (list) {
		json_array_append_new(
		        list,
		        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:s}", "org",
		                  cp->org, "country", cp->country, "id", cp->id, "public_key",
		                  cp->public_key, "languages", cp->languages, "hours", cp->hours,
		                  "channels", cp->channels, "versions", (int)cp->versions, "local",
		                  cp->local, "verified", cp->verified, "problem", cp->problem));
	} else {
		printf("%s  %s  key %s  languages %s  hours %s%s%s%s%s\n", cp->country, cp->org,
		       cp->public_key, cp->languages, cp->hours,
		       cp->channels[0] ? "  channels " : "", cp->channels,
		       cp->local ? "  (this node)" : "", cp->verified ? "" : "  NOT VERIFIED: ");
		if (!cp->verified)
			printf("    %s\n", cp->problem);
	}
	return 0;
}

static int do_contact(struct request_ctx *c, const struct opts *o, const char *what)
{
	struct request_contact cp;
	struct tix_error err;
	enum tix_err e;

	tix_error_clear(&err);
	if (!what || !o->org) {
		fprintf(stderr, "tix request contact: add --org ORG --country CC ... | rotate-key "
		                "--org ORG\n");
		return EXIT_USAGE;
	}
	if (strcmp(what, "add") == 0)
		e = request_contact_put(c, o->org, o->country, o->languages, o->hours, o->channels,
		                        &cp, &err);
	else if (strcmp(what, "rotate-key") == 0)
		e = request_contact_rotate(c, o->org, &cp, &err);
	else {
		fprintf(stderr, "tix request contact: '%s': add or rotate-key\n", what);
		return EXIT_USAGE;
	}
	if (e != TIX_OK)
		return fail(&err);
	print_contact(NULL, &cp);
	return 0;
}

int cmd_request(int argc, char **argv)
{
	static const char *const acts[] = {"send",    "ack",    "execute", "disclose",
	                                   "decline", "extend", "mla",     NULL};
	struct opts o = {0};
	struct store_collection coll;
	struct request_ctx c = {0};
	struct tix_error err;
	const char *cmd, *arg = NULL;
	const char *who = getenv("USER");
	int rc, act = 0, writes;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	cmd = argv[1];
	if ((rc = parse(argc - 1, argv + 1, &o)) != 0)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (cli_verb_operand("request", argc - 1, argv + 1, &arg) != 0)
		return EXIT_USAGE;
	if (strcmp(cmd, "extension") == 0) {
		json_t *x = request_extension_definitions();

		json_dumpf(x, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(x);
		return 0;
	}
	for (int i = 0; acts[i]; i++)
		if (strcmp(cmd, acts[i]) == 0)
			act = 1;
	if (!act && strcmp(cmd, "new") != 0 && strcmp(cmd, "inbox") != 0 &&
	    strcmp(cmd, "show") != 0 && strcmp(cmd, "verify") != 0 && strcmp(cmd, "contact") != 0 &&
	    strcmp(cmd, "directory") != 0) {
		fprintf(stderr, "tix request: '%s' is not a request command\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_clock_now("request", &c.now_us) != 0)
		return EXIT_USAGE;
	c.actor = who && *who ? who : "operator";
	/* Reading (inbox, show, verify, directory) never creates a store or
	 * a collection; writing does. */
	writes = act || strcmp(cmd, "new") == 0 || strcmp(cmd, "contact") == 0;
	c.s = writes ? cli_open_store(cli_db_path(o.db))
	             : cli_open_existing_store(cli_db_path(o.db));
	if (c.s == NULL)
		return EXIT_SYSTEM;
	tix_error_clear(&err);
	if (writes) {
		if (store_collection_get(c.s, o.collection ? o.collection : DEFAULT_COLLECTION, 1,
		                         &coll, &err) != TIX_OK) {
			rc = fail(&err);
			goto out;
		}
		c.collection = &coll;
	}
	if (strcmp(cmd, "new") == 0)
		rc = do_new(&c, &o);
	else if (strcmp(cmd, "inbox") == 0)
		rc = do_inbox(&c, &o);
	else if (strcmp(cmd, "show") == 0)
		rc = do_show(&c, &o, arg);
	else if (strcmp(cmd, "verify") == 0)
		rc = do_verify(&c, &o, arg);
	else if (strcmp(cmd, "contact") == 0)
		rc = do_contact(&c, &o, arg);
	else if (strcmp(cmd, "directory") == 0) {
		json_t *list = o.json ? json_array() : NULL;

		rc = request_directory_list(&c, print_contact, list, &err) == TIX_OK ? 0
		                                                                     : fail(&err);
		if (list) {
			json_dumpf(list, stdout, JSON_INDENT(2));
			printf("\n");
			json_decref(list);
		}
	} else
		rc = do_act(&c, &o, cmd, arg);
out:
	if (fflush(stdout) != 0)
		rc = EXIT_SYSTEM;
	store_close(c.s);
	return rc;
}
