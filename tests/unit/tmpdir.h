/*
 * tmpdir.h — a fresh temporary directory per test (for a store file), and
 * its removal: shared by the unit tests that need a store on disk.
 */
#ifndef TIX_TEST_TMPDIR_H
#define TIX_TEST_TMPDIR_H

#include <stddef.h>

/* Makes /tmp/tix-ut-TAG-XXXXXX into dir and "<dir>/tix.db" into path.
 * Returns 0, or -1 when the directory cannot be made. */
int test_tmpdir_make(const char *tag, char *dir, size_t dir_size, char *path, size_t path_size);
/* Removes the directory and the files in it (not recursive: stores keep
 * their -wal and -shm files beside the database). */
void test_tmpdir_remove(const char *dir);

#endif
