/*
 * library/pack.c — offline packs of the resource library: a static HTML
 * index with its search built in (no network: a Content-Security-Policy
 * allows its one inline script and nothing else), a STIX bundle of the
 * resources, and the files their licence lets a pack carry; and loading one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "library/library.h"
#include "stix/stix.h"

int library_license_copies(const char *l)
{
	static const char *const ok[] = {"cc-",           "cc0",           "cc by", "cc ",
	                                 "public-domain", "public domain", "pd",    NULL};

	if (l == NULL)
		return 0;
	for (int i = 0; ok[i]; i++)
		if (strncasecmp(l, ok[i], strlen(ok[i])) == 0)
			return strcasecmp(l, "pd") == 0 || strncasecmp(l, "pd", 2) != 0 ||
			       l[2] == '\0';
	return 0;
}

/* Text as HTML text (and attribute values): every markup character escaped. */
static void esc(struct tix_buf *b, const char *s)
{
	tix_buf_add_xml(b, s);
}

static void esc_list(struct tix_buf *b, const json_t *v)
{
	size_t i;
	const json_t *x;

	json_array_foreach (v, i, x) {
		if (i)
			tix_buf_adds(b, ", ");
		esc(b, json_string_value(x));
	}
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The search of the page: every word of the box (diacritics folded, case
 * ignored) a substring of a resource's text; no request ever leaves it. */
static const char script[] =
        "(function(){"
        "var f=function(s){return s.normalize('NFKD').replace(/[\\u0300-\\u036f]/g,'')"
        ".toLowerCase();};"
        "var items=[].slice.call(document.querySelectorAll('li.r'));"
        "var texts=items.map(function(li){return f(li.textContent);});"
        "var box=document.getElementById('q'),out=document.getElementById('count');"
        "function run(){var t=f(box.value).split(/[\\s\\u3000,.;:!?()\"'\\u00ab\\u00bb"
        "\\u060c\\u061f\\u0964\\u3001\\u3002]+/).filter(Boolean),n=0;"
        "items.forEach(function(li,i){var ok=t.every(function(w){"
        "return texts[i].indexOf(w)>=0;});li.hidden=!ok;if(ok)n++;});"
        "out.textContent=n+' / '+items.length;}"
        "box.addEventListener('input',run);run();})();";

static void page(struct tix_buf *b, const json_t *results, const json_t *carried)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[64];
	size_t i;
	const json_t *r;

	crypto_hash_sha256(h, (const unsigned char *)script, strlen(script));
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h), sodium_base64_VARIANT_ORIGINAL);
	tix_buf_adds(b,
	             "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	             "style-src 'unsafe-inline'; script-src 'sha256-");
	tix_buf_adds(b, b64);
	tix_buf_adds(b,
	             "'\">\n<meta name=\"viewport\" content=\"width=device-width\">\n"
	             "<title>Resource library</title>\n<style>body{font:16px sans-serif;"
	             "max-width:60em;margin:1em auto;padding:0 1em}li.r{margin:1em 0;"
	             "list-style:none}li.r h2{font-size:1.1em;margin:0}.m{color:#555;"
	             "font-size:.9em}input{font-size:1.1em;width:100%}</style>\n</head>\n<body>\n"
	             "<h1>Resource library</h1>\n<p><label for=\"q\">Search</label> "
	             "<input id=\"q\" type=\"search\" autocomplete=\"off\"> "
	             "<span id=\"count\"></span></p>\n<ul id=\"list\">\n");
	json_array_foreach (results, i, r) {
		const char *lang =
		        json_string_value(json_array_get(json_object_get(r, "in_language"), 0));
		const char *file = str(r, "file");
		const char *k;
		json_t *t;

		tix_buf_adds(b, "<li class=\"r\" id=\"");
		esc(b, str(r, "id"));
		tix_buf_adds(b, "\"");
		if (lang) {
			tix_buf_adds(b, " lang=\"");
			esc(b, lang);
			tix_buf_adds(b, "\"");
		}
		tix_buf_adds(b, "><h2>");
		esc(b, str(r, "title"));
		tix_buf_adds(b, "</h2>");
		if (str(r, "description")) {
			tix_buf_adds(b, "<p>");
			esc(b, str(r, "description"));
			tix_buf_adds(b, "</p>");
		}
		json_object_foreach (json_object_get(r, "translations"), k, t) {
			tix_buf_adds(b, "<p lang=\"");
			esc(b, k);
			tix_buf_adds(b, "\">");
			esc(b, str(t, "title"));
			if (str(t, "title") && str(t, "description"))
				tix_buf_adds(b, " — ");
			esc(b, str(t, "description"));
			tix_buf_adds(b, "</p>");
		}
		tix_buf_adds(b, "<p class=\"m\">");
		{
			static const char *const meta[] = {"publisher", "in_language", "country",
			                                   "audience",  "topics",      "license",
			                                   NULL};
			int any = 0;

			for (int k2 = 0; meta[k2]; k2++) {
				const json_t *m = json_object_get(r, meta[k2]);

				if (m == NULL)
					continue;
				if (any++)
					tix_buf_adds(b, " · ");
				if (json_is_array(m))
					esc_list(b, m);
				else
					esc(b, json_string_value(m));
			}
		}
		tix_buf_adds(b, "</p>");
		if (str(r, "url")) {
			tix_buf_adds(b, "<p><a rel=\"noreferrer\" href=\"");
			esc(b, str(r, "url"));
			tix_buf_adds(b, "\">");
			esc(b, str(r, "url"));
			tix_buf_adds(b, "</a></p>");
		}
		if (file && json_is_true(json_object_get(carried, file))) {
			tix_buf_adds(b, "<p><a href=\"files/");
			esc(b, file);
			tix_buf_adds(b, "\">");
			esc(b, file);
			tix_buf_adds(b, "</a> (in this pack)</p>");
		}
		tix_buf_adds(b, "</li>\n");
	}
	tix_buf_adds(b, "</ul>\n<script>");
	tix_buf_adds(b, script);
	tix_buf_adds(b, "</script>\n</body>\n</html>\n");
}

/* A file of the pack, created or emptied: never through a symbolic link
 * (O_NOFOLLOW) nor into anything but a regular file, so that a pack written
 * over an old directory (one unpacked from elsewhere, say) writes nothing
 * outside it. The descriptor, or -1 with err set. */
static int open_member(const char *path, struct tix_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	              0644);
	struct stat st;

	if (fd < 0 && errno == ELOOP)
		return tix_error_set(err, TIX_EIO, path,
		                     "is a symbolic link; a pack writes no file through a link "
		                     "(remove it, or pack into a new directory)"),
		       -1;
	if (fd < 0)
		return tix_error_set(err, TIX_EIO, path, "%s", strerror(errno)), -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return tix_error_set(err, TIX_EIO, path, "is not a regular file"), -1;
	}
	return fd;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static enum tix_err write_file(const char *path, const char *data, size_t len,
                               struct tix_error *err)
{
	int fd = open_member(path, err);

	if (fd < 0)
		return err->code;
	if (write_all(fd, data, len) != 0) {
		tix_error_set(err, TIX_EIO, path, "writing: %s", strerror(errno));
		close(fd);
		return TIX_EIO;
	}
	if (close(fd) != 0)
		return tix_error_set(err, TIX_EIO, path, "writing: %s", strerror(errno));
	return TIX_OK;
}

/* Copies a regular file of the --files directory into the pack; a name
 * there that is a link (it may point anywhere) or not a regular file is
 * not carried. 0; 1 when not carried; -1 with err set. */
static int copy_file(const char *from, const char *to, struct tix_error *err)
{
	int in = open(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), out;
	char buf[65536];
	struct stat st;
	ssize_t n;

	if (in < 0)
		return 1;
	if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(in);
		return 1;
	}
	if ((out = open_member(to, err)) < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(out, buf, (size_t)n) != 0) {
			tix_error_set(err, TIX_EIO, to, "copying %s: %s", from, strerror(errno));
			close(in);
			close(out);
			return -1;
		}
	}
	close(in);
	if (close(out) != 0)
		return tix_error_set(err, TIX_EIO, to, "writing: %s", strerror(errno)), -1;
	return 0;
}

/* A directory of the pack: made, or there already as a directory (not a
 * link to one). */
static enum tix_err make_dir(const char *path, int member, struct tix_error *err)
{
	struct stat st;

	if (mkdir(path, 0755) == 0)
		return TIX_OK;
	if (errno != EEXIST)
		return tix_error_set(err, TIX_EIO, path, "%s", strerror(errno));
	if ((member ? lstat(path, &st) : stat(path, &st)) != 0)
		return tix_error_set(err, TIX_EIO, path, "%s", strerror(errno));
	if (S_ISLNK(st.st_mode))
		return tix_error_set(err, TIX_EIO, path,
		                     "is a symbolic link; a pack writes no file through a link "
		                     "(remove it, or pack into a new directory)");
	if (!S_ISDIR(st.st_mode))
		return tix_error_set(err, TIX_EIO, path, "is not a directory");
	return TIX_OK;
}

enum tix_err library_pack(struct store *s, const struct library_query *q, const char *dir,
                          const char *files_dir, size_t *count, size_t *files,
                          struct tix_error *err)
{
	struct library_query all = *q;
	json_t *found = NULL, *results, *bundle = NULL, *carried = json_object();
	struct tix_buf b, path, from;
	struct tix_uuid u;
	char uuid[37], bid[64];
	enum tix_err e;
	size_t i;
	const json_t *r;

	*count = *files = 0;
	all.text = NULL;
	all.limit = (size_t)-1;
	all.facets = 0;
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	tix_buf_init(&path, 4096);
	tix_buf_init(&from, 4096);
	if ((e = library_search(s, &all, &found, err)) != TIX_OK)
		goto out;
	results = json_object_get(found, "results");
	if ((e = make_dir(dir, 0, err)) != TIX_OK)
		goto out;
	json_array_foreach (results, i, r) {
		const char *file = str(r, "file");

		if (!files_dir || !file || !library_license_copies(str(r, "license")))
			continue;
		tix_buf_reset(&path);
		tix_buf_addf(&path, "%s/files", dir);
		if ((e = make_dir(tix_buf_str(&path), 1, err)) != TIX_OK)
			goto out;
		tix_buf_addf(&path, "/%s", file);
		tix_buf_reset(&from);
		tix_buf_addf(&from, "%s/%s", files_dir, file);
		switch (copy_file(tix_buf_str(&from), tix_buf_str(&path), err)) {
		case 0:
			json_object_set_new(carried, file, json_true());
			(*files)++;
			break;
		case 1: break;
		default: e = err->code; goto out;
		}
	}
	page(&b, results, carried);
	tix_buf_reset(&path);
	tix_buf_addf(&path, "%s/index.html", dir);
	if ((e = write_file(tix_buf_str(&path), tix_buf_str(&b), tix_buf_len(&b), err)) != TIX_OK)
		goto out;
	tix_uuid_v4(&u);
	snprintf(bid, sizeof(bid), "bundle--%s", tix_uuid_format(&u, uuid));
	bundle = json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", bid, "objects",
	                   library_extension_definitions());
	json_array_extend(json_object_get(bundle, "objects"), results);
	tix_buf_reset(&b);
	if (stix_json_dump(bundle, &b) != TIX_OK) {
		e = tix_error_set(err, TIX_ENOMEM, dir, "out of memory");
		goto out;
	}
	tix_buf_addc(&b, '\n');
	tix_buf_reset(&path);
	tix_buf_addf(&path, "%s/resources.json", dir);
	e = write_file(tix_buf_str(&path), tix_buf_str(&b), tix_buf_len(&b), err);
	*count = json_array_size(results);
out:
	json_decref(found);
	json_decref(bundle);
	json_decref(carried);
	tix_buf_release(&b);
	tix_buf_release(&path);
	tix_buf_release(&from);
	return e;
}

/* DIR/resources.json into *data: a regular file inside the pack (not a
 * link: it could name any file), at most LIBRARY_MAX_INPUT bytes. */
static enum tix_err read_bundle(const char *path, char **data, size_t *len, struct tix_error *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	struct tix_buf b;
	char buf[65536];
	ssize_t n;

	if (fd < 0 && errno == ELOOP)
		return tix_error_set(err, TIX_EINVAL, path,
		                     "is a symbolic link; a pack's resources.json is a file of "
		                     "its own directory");
	if (fd < 0)
		return tix_error_set(err, TIX_EIO, path, "%s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return tix_error_set(err, TIX_EINVAL, path, "is not a regular file");
	}
	if ((unsigned long long)st.st_size > LIBRARY_MAX_INPUT) {
		close(fd);
		return tix_error_set(err, TIX_EINVAL, path, "larger than %u MiB",
		                     LIBRARY_MAX_INPUT >> 20);
	}
	tix_buf_init(&b, LIBRARY_MAX_INPUT);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			tix_error_set(err, TIX_EIO, path, "%s", strerror(errno));
			break;
		}
		if (tix_buf_add(&b, buf, (size_t)n) != TIX_OK) {
			n = -1;
			tix_error_set(err, TIX_EINVAL, path, "larger than %u MiB",
			              LIBRARY_MAX_INPUT >> 20);
			break;
		}
	}
	close(fd);
	if (n < 0) {
		tix_buf_release(&b);
		return err->code;
	}
	*data = tix_buf_detach(&b, len);
	return TIX_OK;
}

enum tix_err library_unpack(const struct library_ctx *c, const char *dir, size_t *count,
                            struct tix_error *err)
{
	struct tix_buf path;
	json_t *bundle = NULL, *in = json_array();
	json_error_t je;
	char *data = NULL;
	size_t len = 0;
	enum tix_err e;
	size_t i, bad = 0;
	const json_t *o;

	*count = 0;
	tix_buf_init(&path, 4096);
	tix_buf_addf(&path, "%s/resources.json", dir);
	if ((e = read_bundle(tix_buf_str(&path), &data, &len, err)) != TIX_OK)
		goto out;
	bundle = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (bundle == NULL) {
		e = tix_error_set(err, TIX_EINVAL, tix_buf_str(&path), "%s (line %d)", je.text,
		                  je.line);
		goto out;
	}
	if (!json_is_array(json_object_get(bundle, "objects"))) {
		e = tix_error_set(err, TIX_EINVAL, tix_buf_str(&path), "not a STIX bundle");
		goto out;
	}
	json_array_foreach (json_object_get(bundle, "objects"), i, o)
		if (str(o, "type") && strcmp(str(o, "type"), LIBRARY_TYPE) == 0)
			json_array_append(in, (json_t *)o);
	e = library_put(c, in, NULL, &bad, err);
	if (e == TIX_OK)
		*count = json_array_size(in);
out:
	free(data);
	json_decref(bundle);
	json_decref(in);
	tix_buf_release(&path);
	return e;
}
