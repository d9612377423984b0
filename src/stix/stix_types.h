/*
 * stix_types.h — the declarative description of every STIX 2.1 type that
 * the validator walks: which properties a type has, of what kind, which are
 * required, which closed vocabularies (enums) apply and which object types
 * a reference may point to. Only the .c files in src/stix include this header.
 */
#ifndef TIX_STIX_TYPES_H
#define TIX_STIX_TYPES_H

#include <stddef.h>

/* What a property's value (or, with SP_LIST, each item of the list) is. */
enum stix_kind {
	SK_STRING,     /* JSON string */
	SK_INTEGER,    /* JSON integer; SP_RANGE applies min/max */
	SK_NUMBER,     /* JSON integer or real (STIX "float"); SP_RANGE applies */
	SK_BOOLEAN,    /* JSON true/false */
	SK_TIMESTAMP,  /* RFC 3339 string, Z only (section 2.16) */
	SK_IDENTIFIER, /* "type--UUID"; refs (if set) lists allowed types */
	SK_HEX,        /* string of hex digit pairs (section 2.8) */
	SK_BINARY,     /* base64 string (section 2.1) */
	SK_URL,        /* string that is an absolute URI (scheme ":" ...) */
	SK_DICTIONARY, /* JSON object with STIX dictionary key rules (2.3) */
	SK_HASHES,     /* hashes dictionary (section 2.7) */
	SK_KILL_CHAIN, /* kill-chain-phase object (section 2.11) */
	SK_EXTREF,     /* external-reference object (section 2.5) */
	SK_EMBEDDED,   /* JSON object validated against `sub` (a nested type,
	                  e.g. email-mime-component, windows-registry-value,
	                  alternate-data-stream, x509-v3-extensions) */
	SK_OBJECT,     /* any JSON object, no further checks */
	SK_ANY         /* any JSON value */
};

/* Property flags. */
#define SP_REQUIRED 0x01 /* the property MUST be present */
#define SP_LIST     0x02 /* the value is a JSON array of `kind` items */
#define SP_NONEMPTY                                                                                \
	0x04          /* a list must have at least one item (minItems 1);                          \
	                 a string must not be empty */
#define SP_RANGE 0x08 /* integer/number must lie in [min, max] */

struct stix_type;

struct stix_prop {
	const char *name;
	unsigned char kind;          /* enum stix_kind */
	unsigned char flags;         /* SP_* */
	const char *const *refs;     /* SK_IDENTIFIER: NULL-terminated list of
	                                allowed object types, NULL = any type.
	                                Special entries: "@sdo", "@sco", "@sro"
	                                stand for every type of that category
	                                (custom ones included). */
	const char *const *enums;    /* closed vocabulary (spec "enum"): the
	                                value must be one of these. NULL for
	                                open vocabularies and free strings. */
	double min, max;             /* with SP_RANGE */
	const struct stix_type *sub; /* with SK_EMBEDDED */
};

enum stix_category {
	SC_SDO,       /* STIX Domain Object (section 4) */
	SC_SRO,       /* relationship, sighting (section 5) */
	SC_SCO,       /* STIX Cyber-observable Object (section 6) */
	SC_META,      /* marking-definition, language-content, extension-definition */
	SC_EXTENSION, /* a predefined SCO extension, e.g. "archive-ext" */
	SC_EMBEDDED   /* a nested structure, e.g. "email-mime-component" */
};

struct stix_type {
	const char *name;              /* "indicator", "archive-ext", ... */
	unsigned char category;        /* enum stix_category */
	const struct stix_prop *props; /* the type's own properties, not the
	                                  common ones of section 3.2 */
	size_t nprops;
	const char *const *id_contrib; /* SCO: ID-contributing properties in
	                                  the spec's order (section 3.4 and
	                                  each SCO's "ID Contributing
	                                  Properties"); NULL elsewhere */
	const char *const *one_of;     /* NULL or NULL-terminated: at least
	                                  one of these properties MUST be
	                                  present (e.g. location, artifact
	                                  rules are in the checks instead) */
};

/* All built-in types (SDO, SRO, SCO, META), SCO extensions and embedded
 * structures, defined in stix_types.c. */
extern const struct stix_type *const stix_builtin_types[];
extern const size_t stix_builtin_ntypes;

/* Look a type up by name in stix_builtin_types; NULL when not built in. */
const struct stix_type *stix_type_find(const char *name);

#endif
