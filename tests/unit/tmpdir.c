/*
 * tmpdir.c — temporary directories for unit tests that keep a store on
 * disk (see tmpdir.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"

int test_tmpdir_make(const char *tag, char *dir, size_t dir_size, char *path, size_t path_size)
{
	if ((size_t)snprintf(dir, dir_size, "/tmp/tix-ut-%s-XXXXXX", tag) >= dir_size ||
	    mkdtemp(dir) == NULL)
		return -1;
	if ((size_t)snprintf(path, path_size, "%s/tix.db", dir) >= path_size) {
		rmdir(dir);
		return -1;
	}
	return 0;
}

void test_tmpdir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}
