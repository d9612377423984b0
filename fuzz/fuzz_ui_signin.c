/*
 * fuzz/fuzz_ui_signin.c — libFuzzer target for the console's sign-in body
 * (ui_signin_parse) and its cookie check (ui_cookie_well_formed): an
 * accepted body gives a name and a password within their bounds, the name
 * free of ':' and control characters; never a crash or a read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/ui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char user[UI_MAX_USER + 1], pw[UI_MAX_PASSWORD + 1], msg[300];
	char *copy = malloc(size + 1);

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (ui_signin_parse((const char *)data, size, user, pw, msg, sizeof(msg)) == 0) {
		size_t ul = strlen(user), pl = strlen(pw);

		if (ul == 0 || ul > UI_MAX_USER || pl == 0 || pl > UI_MAX_PASSWORD ||
		    strchr(user, ':') != NULL)
			abort();
		for (size_t i = 0; i < ul; i++)
			if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
				abort();
	} else if (msg[0] == '\0') {
		abort(); /* a refusal always says why */
	}
	/* The same bytes as a cookie value: well formed only as 43 base64url. */
	if (ui_cookie_well_formed(copy)) {
		if (strlen(copy) != 43 ||
		    strspn(copy, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                 "0123456789-_") != 43)
			abort();
	}
	free(copy);
	return 0;
}
