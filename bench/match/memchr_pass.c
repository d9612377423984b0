/*
 * bench/match/memchr_pass.c — the match benchmark's floor: maps a file as
 * `tix match` does and finds every line end with memchr('\n'), the least a
 * line-oriented scanner must do. Prints the number of lines.
 *
 * usage: tix-bench-match-memchr FILE
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct stat st;
	const char *p, *e, *nl;
	unsigned long long lines = 0;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	if ((fd = open(argv[1], O_RDONLY)) < 0) {
		perror(argv[1]);
		return 2;
	}
	if (fstat(fd, &st) != 0) {
		perror(argv[1]);
		close(fd);
		return 2;
	}
	if (st.st_size == 0) {
		puts("0");
		close(fd);
		return 0;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd); /* the mapping stays */
	if (p == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	(void)madvise((void *)(uintptr_t)p, (size_t)st.st_size, MADV_WILLNEED); /* as tix match */
	for (e = p + st.st_size; p < e; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		lines++;
	}
	printf("%llu\n", lines);
	return 0;
}
