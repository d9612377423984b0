/*
 * stix_types.c — the built-in STIX 2.1 type tables declared in stix_types.h:
 * each type's own properties (kind, required, closed enums, reference
 * targets), SCO ID contributing properties, "at least one of" sets, and
 * stix_type_find() over the name-sorted table of all of them.
 */
#include "stix_types.h"

#include <stdlib.h>
#include <string.h>

#define NPROPS(a) (sizeof(a) / sizeof((a)[0]))

/* Every STIX list must have at least one item (section 2.12). */
#define LIST (SP_LIST | SP_NONEMPTY)
#define REQ  SP_REQUIRED

/* Largest STIX integer (section 2.10): 2^53 - 1. */
#define INT53_MAX 9007199254740991.0

#define PROP(n, k, f)                                                                              \
	{                                                                                          \
		(n), (k), (f), NULL, NULL, 0, 0, NULL                                              \
	}
#define PREF(n, f, r)                                                                              \
	{                                                                                          \
		(n), SK_IDENTIFIER, (f), (r), NULL, 0, 0, NULL                                     \
	}
#define PENUM(n, f, e)                                                                             \
	{                                                                                          \
		(n), SK_STRING, (f), NULL, (e), 0, 0, NULL                                         \
	}
#define PRANGE(n, k, f, lo, hi)                                                                    \
	{                                                                                          \
		(n), (k), (f) | SP_RANGE, NULL, NULL, (lo), (hi), NULL                             \
	}
#define PUINT(n, f) PRANGE(n, SK_INTEGER, f, 0, INT53_MAX)
#define PSUB(n, f, t)                                                                              \
	{                                                                                          \
		(n), SK_EMBEDDED, (f), NULL, NULL, 0, 0, &(t)                                      \
	}

#define TYPE(var, name, cat, props, id_contrib, one_of)                                            \
	static const struct stix_type var = {(name),        (cat),        (props),                 \
	                                     NPROPS(props), (id_contrib), (one_of)}

/* ---- allowed reference targets ("MUST be of type ...") ----------------- */

static const char *const refs_sdo[] = {"@sdo", NULL};
static const char *const refs_sco[] = {"@sco", NULL};
static const char *const refs_sdo_sco[] = {"@sdo", "@sco", NULL};
static const char *const refs_sco_sro[] = {"@sco", "@sro", NULL};
/* language-content object_ref: any STIX Object, but not a bundle nor another
 * language-content (the OASIS schema's reading of "STIX Object"). */
static const char *const refs_stix_object[] = {
        "@sdo", "@sco", "@sro", "marking-definition", "extension-definition", NULL};
static const char *const refs_artifact[] = {"artifact", NULL};
static const char *const refs_artifact_file[] = {"artifact", "file", NULL};
static const char *const refs_analysis_sample[] = {"artifact", "file", "network-traffic", NULL};
static const char *const refs_autonomous_system[] = {"autonomous-system", NULL};
static const char *const refs_directory[] = {"directory", NULL};
static const char *const refs_email_addr[] = {"email-addr", NULL};
static const char *const refs_file[] = {"file", NULL};
static const char *const refs_file_directory[] = {"file", "directory", NULL};
static const char *const refs_identity_location[] = {"identity", "location", NULL};
static const char *const refs_ip_domain[] = {"ipv4-addr", "ipv6-addr", "domain-name", NULL};
static const char *const refs_mac_addr[] = {"mac-addr", NULL};
static const char *const refs_net_endpoint[] = {"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name",
                                                NULL};
static const char *const refs_network_traffic[] = {"network-traffic", NULL};
static const char *const refs_observed_data[] = {"observed-data", NULL};
static const char *const refs_process[] = {"process", NULL};
static const char *const refs_software[] = {"software", NULL};
static const char *const refs_user_account[] = {"user-account", NULL};

/* ---- closed vocabularies (section 10 enumerations) --------------------- */

static const char *const enum_encryption_algorithm[] = {"AES-256-GCM", "ChaCha20-Poly1305",
                                                        "mime-type-indicated", NULL};
static const char *const enum_extension_type[] = {
        "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension", NULL};
static const char *const enum_socket_address_family[] = {"AF_UNSPEC",    "AF_INET",    "AF_IPX",
                                                         "AF_APPLETALK", "AF_NETBIOS", "AF_INET6",
                                                         "AF_IRDA",      "AF_BTH",     NULL};
/* The spec's summary row misprints SOCK_DGRAM; its value table has it right. */
static const char *const enum_socket_type[] = {"SOCK_STREAM", "SOCK_DGRAM",     "SOCK_RAW",
                                               "SOCK_RDM",    "SOCK_SEQPACKET", NULL};
static const char *const enum_opinion[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                           "strongly-agree",    NULL};
static const char *const enum_integrity_level[] = {"low", "medium", "high", "system", NULL};
static const char *const enum_registry_datatype[] = {"REG_NONE",
                                                     "REG_SZ",
                                                     "REG_EXPAND_SZ",
                                                     "REG_BINARY",
                                                     "REG_DWORD",
                                                     "REG_DWORD_BIG_ENDIAN",
                                                     "REG_DWORD_LITTLE_ENDIAN",
                                                     "REG_LINK",
                                                     "REG_MULTI_SZ",
                                                     "REG_RESOURCE_LIST",
                                                     "REG_FULL_RESOURCE_DESCRIPTION",
                                                     "REG_RESOURCE_REQUIREMENTS_LIST",
                                                     "REG_QWORD",
                                                     "REG_INVALID_TYPE",
                                                     NULL};
static const char *const enum_service_start_type[] = {"SERVICE_AUTO_START",   "SERVICE_BOOT_START",
                                                      "SERVICE_DEMAND_START", "SERVICE_DISABLED",
                                                      "SERVICE_SYSTEM_ALERT", NULL};
static const char *const enum_service_type[] = {
        "SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER", "SERVICE_WIN32_OWN_PROCESS",
        "SERVICE_WIN32_SHARE_PROCESS", NULL};
static const char *const enum_service_status[] = {
        "SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED",  "SERVICE_RUNNING",
        "SERVICE_START_PENDING",    "SERVICE_STOP_PENDING",  "SERVICE_STOPPED", NULL};

/* ---- section 4: STIX Domain Objects ------------------------------------ */

static const struct stix_prop props_attack_pattern[] = {
        PROP("name", SK_STRING, REQ),
        PROP("description", SK_STRING, 0),
        PROP("aliases", SK_STRING, LIST),
        PROP("kill_chain_phases", SK_KILL_CHAIN, LIST),
};
TYPE(type_attack_pattern, "attack-pattern", SC_SDO, props_attack_pattern, NULL, NULL);

static const struct stix_prop props_campaign[] = {
        PROP("name", SK_STRING, REQ),       PROP("description", SK_STRING, 0),
        PROP("aliases", SK_STRING, LIST),   PROP("first_seen", SK_TIMESTAMP, 0),
        PROP("last_seen", SK_TIMESTAMP, 0), PROP("objective", SK_STRING, 0),
};
TYPE(type_campaign, "campaign", SC_SDO, props_campaign, NULL, NULL);

/* "action" is RESERVED (section 3.8): the validator rejects it everywhere, so
 * it is deliberately not listed here. */
static const struct stix_prop props_course_of_action[] = {
        PROP("name", SK_STRING, REQ),
        PROP("description", SK_STRING, 0),
};
TYPE(type_course_of_action, "course-of-action", SC_SDO, props_course_of_action, NULL, NULL);

/* The spec marks name required; the OASIS schema leaves it optional. */
static const struct stix_prop props_grouping[] = {
        PROP("name", SK_STRING, REQ),
        PROP("description", SK_STRING, 0),
        PROP("context", SK_STRING, REQ),
        PREF("object_refs", REQ | LIST, NULL),
};
TYPE(type_grouping, "grouping", SC_SDO, props_grouping, NULL, NULL);

static const struct stix_prop props_identity[] = {
        PROP("name", SK_STRING, REQ),     PROP("description", SK_STRING, 0),
        PROP("roles", SK_STRING, LIST),   PROP("identity_class", SK_STRING, 0),
        PROP("sectors", SK_STRING, LIST), PROP("contact_information", SK_STRING, 0),
};
TYPE(type_identity, "identity", SC_SDO, props_identity, NULL, NULL);

static const struct stix_prop props_incident[] = {
        PROP("name", SK_STRING, REQ),
        PROP("description", SK_STRING, 0),
};
TYPE(type_incident, "incident", SC_SDO, props_incident, NULL, NULL);

static const struct stix_prop props_indicator[] = {
        PROP("name", SK_STRING, 0),
        PROP("description", SK_STRING, 0),
        PROP("indicator_types", SK_STRING, LIST),
        PROP("pattern", SK_STRING, REQ),
        PROP("pattern_type", SK_STRING, REQ),
        PROP("pattern_version", SK_STRING, 0),
        PROP("valid_from", SK_TIMESTAMP, REQ),
        PROP("valid_until", SK_TIMESTAMP, 0),
        PROP("kill_chain_phases", SK_KILL_CHAIN, LIST),
};
TYPE(type_indicator, "indicator", SC_SDO, props_indicator, NULL, NULL);

static const struct stix_prop props_infrastructure[] = {
        PROP("name", SK_STRING, REQ),
        PROP("description", SK_STRING, 0),
        PROP("infrastructure_types", SK_STRING, LIST),
        PROP("aliases", SK_STRING, LIST),
        PROP("kill_chain_phases", SK_KILL_CHAIN, LIST),
        PROP("first_seen", SK_TIMESTAMP, 0),
        PROP("last_seen", SK_TIMESTAMP, 0),
};
TYPE(type_infrastructure, "infrastructure", SC_SDO, props_infrastructure, NULL, NULL);

static const struct stix_prop props_intrusion_set[] = {
        PROP("name", SK_STRING, REQ),
        PROP("description", SK_STRING, 0),
        PROP("aliases", SK_STRING, LIST),
        PROP("first_seen", SK_TIMESTAMP, 0),
        PROP("last_seen", SK_TIMESTAMP, 0),
        PROP("goals", SK_STRING, LIST),
        PROP("resource_level", SK_STRING, 0),
        PROP("primary_motivation", SK_STRING, 0),
        PROP("secondary_motivations", SK_STRING, LIST),
};
TYPE(type_intrusion_set, "intrusion-set", SC_SDO, props_intrusion_set, NULL, NULL);

/* region / country / latitude+longitude presence is checked in code. */
static const struct stix_prop props_location[] = {
        PROP("name", SK_STRING, 0),
        PROP("description", SK_STRING, 0),
        PRANGE("latitude", SK_NUMBER, 0, -90.0, 90.0),
        PRANGE("longitude", SK_NUMBER, 0, -180.0, 180.0),
        PROP("precision", SK_NUMBER, 0),
        PROP("region", SK_STRING, 0),
        PROP("country", SK_STRING, 0),
        PROP("administrative_area", SK_STRING, 0),
        PROP("city", SK_STRING, 0),
        PROP("street_address", SK_STRING, 0),
        PROP("postal_code", SK_STRING, 0),
};
TYPE(type_location, "location", SC_SDO, props_location, NULL, NULL);

/* The spec marks is_family optional; the OASIS schema requires it. */
static const struct stix_prop props_malware[] = {
        PROP("name", SK_STRING, 0),
        PROP("description", SK_STRING, 0),
        PROP("malware_types", SK_STRING, LIST),
        PROP("is_family", SK_BOOLEAN, 0),
        PROP("aliases", SK_STRING, LIST),
        PROP("kill_chain_phases", SK_KILL_CHAIN, LIST),
        PROP("first_seen", SK_TIMESTAMP, 0),
        PROP("last_seen", SK_TIMESTAMP, 0),
        PREF("operating_system_refs", LIST, refs_software),
        PROP("architecture_execution_envs", SK_STRING, LIST),
        PROP("implementation_languages", SK_STRING, LIST),
        PROP("capabilities", SK_STRING, LIST),
        PREF("sample_refs", LIST, refs_artifact_file),
};
TYPE(type_malware, "malware", SC_SDO, props_malware, NULL, NULL);

static const struct stix_prop props_malware_analysis[] = {
        PROP("product", SK_STRING, REQ),
        PROP("version", SK_STRING, 0),
        PREF("host_vm_ref", 0, refs_software),
        PREF("operating_system_ref", 0, refs_software),
        PREF("installed_software_refs", LIST, refs_software),
        PROP("configuration_version", SK_STRING, 0),
        PROP("modules", SK_STRING, LIST),
        PROP("analysis_engine_version", SK_STRING, 0),
        PROP("analysis_definition_version", SK_STRING, 0),
        PROP("submitted", SK_TIMESTAMP, 0),
        PROP("analysis_started", SK_TIMESTAMP, 0),
        PROP("analysis_ended", SK_TIMESTAMP, 0),
        PROP("result_name", SK_STRING, 0),
        PROP("result", SK_STRING, 0),
        PREF("analysis_sco_refs", LIST, refs_sco),
        PREF("sample_ref", 0, refs_analysis_sample),
};
static const char *const one_of_malware_analysis[] = {"result", "analysis_sco_refs", NULL};
TYPE(type_malware_analysis, "malware-analysis", SC_SDO, props_malware_analysis, NULL,
     one_of_malware_analysis);

static const struct stix_prop props_note[] = {
        PROP("abstract", SK_STRING, 0),
        PROP("content", SK_STRING, REQ),
        PROP("authors", SK_STRING, LIST),
        PREF("object_refs", REQ | LIST, NULL),
};
TYPE(type_note, "note", SC_SDO, props_note, NULL, NULL);

/* objects (deprecated observable container, keyed "0", "1", ...) and
 * object_refs exclude each other; that and their contents are checked in
 * code. */
static const struct stix_prop props_observed_data[] = {
        PROP("first_observed", SK_TIMESTAMP, REQ),
        PROP("last_observed", SK_TIMESTAMP, REQ),
        PRANGE("number_observed", SK_INTEGER, REQ, 1, 999999999),
        PROP("objects", SK_OBJECT, 0),
        PREF("object_refs", LIST, refs_sco_sro),
};
TYPE(type_observed_data, "observed-data", SC_SDO, props_observed_data, NULL, NULL);

static const struct stix_prop props_opinion[] = {
        PROP("explanation", SK_STRING, 0),
        PROP("authors", SK_STRING, LIST),
        PENUM("opinion", REQ, enum_opinion),
        PREF("object_refs", REQ | LIST, NULL),
};
TYPE(type_opinion, "opinion", SC_SDO, props_opinion, NULL, NULL);

static const struct stix_prop props_report[] = {
        PROP("name", SK_STRING, REQ),          PROP("description", SK_STRING, 0),
        PROP("report_types", SK_STRING, LIST), PROP("published", SK_TIMESTAMP, REQ),
        PREF("object_refs", REQ | LIST, NULL),
};
TYPE(type_report, "report", SC_SDO, props_report, NULL, NULL);

static const struct stix_prop props_threat_actor[] = {
        PROP("name", SK_STRING, REQ),
        PROP("description", SK_STRING, 0),
        PROP("threat_actor_types", SK_STRING, LIST),
        PROP("aliases", SK_STRING, LIST),
        PROP("first_seen", SK_TIMESTAMP, 0),
        PROP("last_seen", SK_TIMESTAMP, 0),
        PROP("roles", SK_STRING, LIST),
        PROP("goals", SK_STRING, LIST),
        PROP("sophistication", SK_STRING, 0),
        PROP("resource_level", SK_STRING, 0),
        PROP("primary_motivation", SK_STRING, 0),
        PROP("secondary_motivations", SK_STRING, LIST),
        PROP("personal_motivations", SK_STRING, LIST),
};
TYPE(type_threat_actor, "threat-actor", SC_SDO, props_threat_actor, NULL, NULL);

static const struct stix_prop props_tool[] = {
        PROP("name", SK_STRING, REQ),
        PROP("description", SK_STRING, 0),
        PROP("tool_types", SK_STRING, LIST),
        PROP("aliases", SK_STRING, LIST),
        PROP("kill_chain_phases", SK_KILL_CHAIN, LIST),
        PROP("tool_version", SK_STRING, 0),
};
TYPE(type_tool, "tool", SC_SDO, props_tool, NULL, NULL);

static const struct stix_prop props_vulnerability[] = {
        PROP("name", SK_STRING, REQ),
        PROP("description", SK_STRING, 0),
};
TYPE(type_vulnerability, "vulnerability", SC_SDO, props_vulnerability, NULL, NULL);

/* ---- section 5: STIX Relationship Objects ------------------------------ */

static const struct stix_prop props_relationship[] = {
        PROP("relationship_type", SK_STRING, REQ), PROP("description", SK_STRING, 0),
        PREF("source_ref", REQ, refs_sdo_sco),     PREF("target_ref", REQ, refs_sdo_sco),
        PROP("start_time", SK_TIMESTAMP, 0),       PROP("stop_time", SK_TIMESTAMP, 0),
};
TYPE(type_relationship, "relationship", SC_SRO, props_relationship, NULL, NULL);

/* summary: the spec's type column says string, but its own text (default
 * false) and section 2.2's example make it a boolean, as in the schema. */
static const struct stix_prop props_sighting[] = {
        PROP("description", SK_STRING, 0),
        PROP("first_seen", SK_TIMESTAMP, 0),
        PROP("last_seen", SK_TIMESTAMP, 0),
        PRANGE("count", SK_INTEGER, 0, 0, 999999999),
        PREF("sighting_of_ref", REQ, refs_sdo),
        PREF("observed_data_refs", LIST, refs_observed_data),
        PREF("where_sighted_refs", LIST, refs_identity_location),
        PROP("summary", SK_BOOLEAN, 0),
};
TYPE(type_sighting, "sighting", SC_SRO, props_sighting, NULL, NULL);

/* ---- section 6: nested types used through SK_EMBEDDED ------------------- */

/* These names are ours (the spec's "...-type" names, shortened); they are not
 * object types, so a caller looking up an object's "type" must check that the
 * category it gets back is not SC_EMBEDDED (nor SC_EXTENSION). */

/* email-mime-part-type (6.6.2) */
static const struct stix_prop props_email_mime_component[] = {
        PROP("body", SK_STRING, 0),
        PREF("body_raw_ref", 0, refs_artifact_file),
        PROP("content_type", SK_STRING, 0),
        PROP("content_disposition", SK_STRING, 0),
};
static const char *const one_of_email_mime_component[] = {"body", "body_raw_ref", NULL};
TYPE(type_email_mime_component, "email-mime-component", SC_EMBEDDED, props_email_mime_component,
     NULL, one_of_email_mime_component);

/* alternate-data-stream-type (6.7.3) */
static const struct stix_prop props_alternate_data_stream[] = {
        PROP("name", SK_STRING, REQ),
        PROP("hashes", SK_HASHES, 0),
        PUINT("size", 0),
};
TYPE(type_alternate_data_stream, "alternate-data-stream", SC_EMBEDDED, props_alternate_data_stream,
     NULL, NULL);

/* windows-pe-optional-header-type (6.7.6) */
static const struct stix_prop props_windows_pe_optional_header[] = {
        PROP("magic_hex", SK_HEX, 0),
        PROP("major_linker_version", SK_INTEGER, 0),
        PROP("minor_linker_version", SK_INTEGER, 0),
        PUINT("size_of_code", 0),
        PUINT("size_of_initialized_data", 0),
        PUINT("size_of_uninitialized_data", 0),
        PROP("address_of_entry_point", SK_INTEGER, 0),
        PROP("base_of_code", SK_INTEGER, 0),
        PROP("base_of_data", SK_INTEGER, 0),
        PROP("image_base", SK_INTEGER, 0),
        PROP("section_alignment", SK_INTEGER, 0),
        PROP("file_alignment", SK_INTEGER, 0),
        PROP("major_os_version", SK_INTEGER, 0),
        PROP("minor_os_version", SK_INTEGER, 0),
        PROP("major_image_version", SK_INTEGER, 0),
        PROP("minor_image_version", SK_INTEGER, 0),
        PROP("major_subsystem_version", SK_INTEGER, 0),
        PROP("minor_subsystem_version", SK_INTEGER, 0),
        PROP("win32_version_value_hex", SK_HEX, 0),
        PUINT("size_of_image", 0),
        PUINT("size_of_headers", 0),
        PROP("checksum_hex", SK_HEX, 0),
        PROP("subsystem_hex", SK_HEX, 0),
        PROP("dll_characteristics_hex", SK_HEX, 0),
        PUINT("size_of_stack_reserve", 0),
        PUINT("size_of_stack_commit", 0),
        PUINT("size_of_heap_reserve", 0),
        PUINT("size_of_heap_commit", 0),
        PROP("loader_flags_hex", SK_HEX, 0),
        PROP("number_of_rva_and_sizes", SK_INTEGER, 0),
        PROP("hashes", SK_HASHES, 0),
};
static const char *const one_of_windows_pe_optional_header[] = {"magic_hex",
                                                                "major_linker_version",
                                                                "minor_linker_version",
                                                                "size_of_code",
                                                                "size_of_initialized_data",
                                                                "size_of_uninitialized_data",
                                                                "address_of_entry_point",
                                                                "base_of_code",
                                                                "base_of_data",
                                                                "image_base",
                                                                "section_alignment",
                                                                "file_alignment",
                                                                "major_os_version",
                                                                "minor_os_version",
                                                                "major_image_version",
                                                                "minor_image_version",
                                                                "major_subsystem_version",
                                                                "minor_subsystem_version",
                                                                "win32_version_value_hex",
                                                                "size_of_image",
                                                                "size_of_headers",
                                                                "checksum_hex",
                                                                "subsystem_hex",
                                                                "dll_characteristics_hex",
                                                                "size_of_stack_reserve",
                                                                "size_of_stack_commit",
                                                                "size_of_heap_reserve",
                                                                "size_of_heap_commit",
                                                                "loader_flags_hex",
                                                                "number_of_rva_and_sizes",
                                                                "hashes",
                                                                NULL};
TYPE(type_windows_pe_optional_header, "windows-pe-optional-header", SC_EMBEDDED,
     props_windows_pe_optional_header, NULL, one_of_windows_pe_optional_header);

/* windows-pe-section-type (6.7.6); entropy's 0..8 is descriptive, not a MUST. */
static const struct stix_prop props_windows_pe_section[] = {
        PROP("name", SK_STRING, REQ),
        PUINT("size", 0),
        PROP("entropy", SK_NUMBER, 0),
        PROP("hashes", SK_HASHES, 0),
};
TYPE(type_windows_pe_section, "windows-pe-section", SC_EMBEDDED, props_windows_pe_section, NULL,
     NULL);

/* windows-registry-value-type (6.17.2); name may be "" (the default value). */
static const struct stix_prop props_windows_registry_value[] = {
        PROP("name", SK_STRING, 0),
        PROP("data", SK_STRING, 0),
        PENUM("data_type", 0, enum_registry_datatype),
};
static const char *const one_of_windows_registry_value[] = {"name", "data", "data_type", NULL};
TYPE(type_windows_registry_value, "windows-registry-value", SC_EMBEDDED,
     props_windows_registry_value, NULL, one_of_windows_registry_value);

/* x509-v3-extensions-type (6.18.2) */
static const struct stix_prop props_x509_v3_extensions[] = {
        PROP("basic_constraints", SK_STRING, 0),
        PROP("name_constraints", SK_STRING, 0),
        PROP("policy_constraints", SK_STRING, 0),
        PROP("key_usage", SK_STRING, 0),
        PROP("extended_key_usage", SK_STRING, 0),
        PROP("subject_key_identifier", SK_STRING, 0),
        PROP("authority_key_identifier", SK_STRING, 0),
        PROP("subject_alternative_name", SK_STRING, 0),
        PROP("issuer_alternative_name", SK_STRING, 0),
        PROP("subject_directory_attributes", SK_STRING, 0),
        PROP("crl_distribution_points", SK_STRING, 0),
        PROP("inhibit_any_policy", SK_STRING, 0),
        PROP("private_key_usage_period_not_before", SK_TIMESTAMP, 0),
        PROP("private_key_usage_period_not_after", SK_TIMESTAMP, 0),
        PROP("certificate_policies", SK_STRING, 0),
        PROP("policy_mappings", SK_STRING, 0),
};
static const char *const one_of_x509_v3_extensions[] = {"basic_constraints",
                                                        "name_constraints",
                                                        "policy_constraints",
                                                        "key_usage",
                                                        "extended_key_usage",
                                                        "subject_key_identifier",
                                                        "authority_key_identifier",
                                                        "subject_alternative_name",
                                                        "issuer_alternative_name",
                                                        "subject_directory_attributes",
                                                        "crl_distribution_points",
                                                        "inhibit_any_policy",
                                                        "private_key_usage_period_not_before",
                                                        "private_key_usage_period_not_after",
                                                        "certificate_policies",
                                                        "policy_mappings",
                                                        NULL};
TYPE(type_x509_v3_extensions, "x509-v3-extensions", SC_EMBEDDED, props_x509_v3_extensions, NULL,
     one_of_x509_v3_extensions);

/* ---- section 6: STIX Cyber-observable Objects --------------------------- */

/* "One of payload_bin or url MUST be provided", url excluding payload_bin and
 * url requiring hashes are checked in code. */
static const struct stix_prop props_artifact[] = {
        PROP("mime_type", SK_STRING, 0),
        PROP("payload_bin", SK_BINARY, 0),
        PROP("url", SK_URL, 0),
        PROP("hashes", SK_HASHES, 0),
        PENUM("encryption_algorithm", 0, enum_encryption_algorithm),
        PROP("decryption_key", SK_STRING, 0),
};
static const char *const idc_artifact[] = {"hashes", "payload_bin", NULL};
TYPE(type_artifact, "artifact", SC_SCO, props_artifact, idc_artifact, NULL);

static const struct stix_prop props_autonomous_system[] = {
        PROP("number", SK_INTEGER, REQ),
        PROP("name", SK_STRING, 0),
        PROP("rir", SK_STRING, 0),
};
static const char *const idc_autonomous_system[] = {"number", NULL};
TYPE(type_autonomous_system, "autonomous-system", SC_SCO, props_autonomous_system,
     idc_autonomous_system, NULL);

static const struct stix_prop props_directory[] = {
        PROP("path", SK_STRING, REQ),   PROP("path_enc", SK_STRING, 0),
        PROP("ctime", SK_TIMESTAMP, 0), PROP("mtime", SK_TIMESTAMP, 0),
        PROP("atime", SK_TIMESTAMP, 0), PREF("contains_refs", LIST, refs_file_directory),
};
static const char *const idc_directory[] = {"path", NULL};
TYPE(type_directory, "directory", SC_SCO, props_directory, idc_directory, NULL);

static const struct stix_prop props_domain_name[] = {
        PROP("value", SK_STRING, REQ),
        PREF("resolves_to_refs", LIST, refs_ip_domain),
};
static const char *const idc_value[] = {"value", NULL};
TYPE(type_domain_name, "domain-name", SC_SCO, props_domain_name, idc_value, NULL);

static const struct stix_prop props_email_addr[] = {
        PROP("value", SK_STRING, REQ),
        PROP("display_name", SK_STRING, 0),
        PREF("belongs_to_ref", 0, refs_user_account),
};
TYPE(type_email_addr, "email-addr", SC_SCO, props_email_addr, idc_value, NULL);

/* body only when is_multipart is false, body_multipart only when true:
 * checked in code. */
static const struct stix_prop props_email_message[] = {
        PROP("is_multipart", SK_BOOLEAN, REQ),
        PROP("date", SK_TIMESTAMP, 0),
        PROP("content_type", SK_STRING, 0),
        PREF("from_ref", 0, refs_email_addr),
        PREF("sender_ref", 0, refs_email_addr),
        PREF("to_refs", LIST, refs_email_addr),
        PREF("cc_refs", LIST, refs_email_addr),
        PREF("bcc_refs", LIST, refs_email_addr),
        PROP("message_id", SK_STRING, 0),
        PROP("subject", SK_STRING, 0),
        PROP("received_lines", SK_STRING, LIST),
        PROP("additional_header_fields", SK_DICTIONARY, 0),
        PROP("body", SK_STRING, 0),
        PSUB("body_multipart", LIST, type_email_mime_component),
        PREF("raw_email_ref", 0, refs_artifact),
};
static const char *const idc_email_message[] = {"from_ref", "subject", "body", NULL};
TYPE(type_email_message, "email-message", SC_SCO, props_email_message, idc_email_message, NULL);

static const struct stix_prop props_file[] = {
        PROP("hashes", SK_HASHES, 0),
        PUINT("size", 0),
        PROP("name", SK_STRING, 0),
        PROP("name_enc", SK_STRING, 0),
        PROP("magic_number_hex", SK_HEX, 0),
        PROP("mime_type", SK_STRING, 0),
        PROP("ctime", SK_TIMESTAMP, 0),
        PROP("mtime", SK_TIMESTAMP, 0),
        PROP("atime", SK_TIMESTAMP, 0),
        PREF("parent_directory_ref", 0, refs_directory),
        PREF("contains_refs", LIST, refs_sco),
        PREF("content_ref", 0, refs_artifact),
};
static const char *const idc_file[] = {"hashes", "name", "extensions", "parent_directory_ref",
                                       NULL};
static const char *const one_of_file[] = {"hashes", "name", NULL};
TYPE(type_file, "file", SC_SCO, props_file, idc_file, one_of_file);

static const struct stix_prop props_ipv4_addr[] = {
        PROP("value", SK_STRING, REQ),
        PREF("resolves_to_refs", LIST, refs_mac_addr),
        PREF("belongs_to_refs", LIST, refs_autonomous_system),
};
TYPE(type_ipv4_addr, "ipv4-addr", SC_SCO, props_ipv4_addr, idc_value, NULL);

static const struct stix_prop props_ipv6_addr[] = {
        PROP("value", SK_STRING, REQ),
        PREF("resolves_to_refs", LIST, refs_mac_addr),
        PREF("belongs_to_refs", LIST, refs_autonomous_system),
};
TYPE(type_ipv6_addr, "ipv6-addr", SC_SCO, props_ipv6_addr, idc_value, NULL);

static const struct stix_prop props_mac_addr[] = {
        PROP("value", SK_STRING, REQ),
};
TYPE(type_mac_addr, "mac-addr", SC_SCO, props_mac_addr, idc_value, NULL);

static const struct stix_prop props_mutex[] = {
        PROP("name", SK_STRING, REQ),
};
static const char *const idc_name[] = {"name", NULL};
TYPE(type_mutex, "mutex", SC_SCO, props_mutex, idc_name, NULL);

/* The byte and packet counts are "positive integers" in the spec's words; a
 * count of zero is plainly meaningful, so only negatives are refused. */
static const struct stix_prop props_network_traffic[] = {
        PROP("start", SK_TIMESTAMP, 0),
        PROP("end", SK_TIMESTAMP, 0),
        PROP("is_active", SK_BOOLEAN, 0),
        PREF("src_ref", 0, refs_net_endpoint),
        PREF("dst_ref", 0, refs_net_endpoint),
        PRANGE("src_port", SK_INTEGER, 0, 0, 65535),
        PRANGE("dst_port", SK_INTEGER, 0, 0, 65535),
        PROP("protocols", SK_STRING, REQ | LIST),
        PUINT("src_byte_count", 0),
        PUINT("dst_byte_count", 0),
        PUINT("src_packets", 0),
        PUINT("dst_packets", 0),
        PROP("ipfix", SK_DICTIONARY, 0),
        PREF("src_payload_ref", 0, refs_artifact),
        PREF("dst_payload_ref", 0, refs_artifact),
        PREF("encapsulates_refs", LIST, refs_network_traffic),
        PREF("encapsulated_by_ref", 0, refs_network_traffic),
};
static const char *const idc_network_traffic[] = {"start",     "end",        "src_ref",
                                                  "dst_ref",   "src_port",   "dst_port",
                                                  "protocols", "extensions", NULL};
static const char *const one_of_network_traffic[] = {"src_ref", "dst_ref", NULL};
TYPE(type_network_traffic, "network-traffic", SC_SCO, props_network_traffic, idc_network_traffic,
     one_of_network_traffic);

/* No ID contributing properties: process ids are UUIDv4. "At least one
 * property (other than type) from this object (or one of its extensions)". */
static const struct stix_prop props_process[] = {
        PROP("is_hidden", SK_BOOLEAN, 0),
        PROP("pid", SK_INTEGER, 0),
        PROP("created_time", SK_TIMESTAMP, 0),
        PROP("cwd", SK_STRING, 0),
        PROP("command_line", SK_STRING, 0),
        PROP("environment_variables", SK_DICTIONARY, 0),
        PREF("opened_connection_refs", LIST, refs_network_traffic),
        PREF("creator_user_ref", 0, refs_user_account),
        PREF("image_ref", 0, refs_file),
        PREF("parent_ref", 0, refs_process),
        PREF("child_refs", LIST, refs_process),
};
static const char *const one_of_process[] = {"extensions",
                                             "is_hidden",
                                             "pid",
                                             "created_time",
                                             "cwd",
                                             "command_line",
                                             "environment_variables",
                                             "opened_connection_refs",
                                             "creator_user_ref",
                                             "image_ref",
                                             "parent_ref",
                                             "child_refs",
                                             NULL};
TYPE(type_process, "process", SC_SCO, props_process, NULL, one_of_process);

static const struct stix_prop props_software[] = {
        PROP("name", SK_STRING, REQ), PROP("cpe", SK_STRING, 0),
        PROP("swid", SK_STRING, 0),   PROP("languages", SK_STRING, LIST),
        PROP("vendor", SK_STRING, 0), PROP("version", SK_STRING, 0),
};
static const char *const idc_software[] = {"name", "cpe", "swid", "vendor", "version", NULL};
TYPE(type_software, "software", SC_SCO, props_software, idc_software, NULL);

static const struct stix_prop props_url[] = {
        PROP("value", SK_URL, REQ),
};
TYPE(type_url, "url", SC_SCO, props_url, idc_value, NULL);

static const struct stix_prop props_user_account[] = {
        PROP("user_id", SK_STRING, 0),
        PROP("credential", SK_STRING, 0),
        PROP("account_login", SK_STRING, 0),
        PROP("account_type", SK_STRING, 0),
        PROP("display_name", SK_STRING, 0),
        PROP("is_service_account", SK_BOOLEAN, 0),
        PROP("is_privileged", SK_BOOLEAN, 0),
        PROP("can_escalate_privs", SK_BOOLEAN, 0),
        PROP("is_disabled", SK_BOOLEAN, 0),
        PROP("account_created", SK_TIMESTAMP, 0),
        PROP("account_expires", SK_TIMESTAMP, 0),
        PROP("credential_last_changed", SK_TIMESTAMP, 0),
        PROP("account_first_login", SK_TIMESTAMP, 0),
        PROP("account_last_login", SK_TIMESTAMP, 0),
};
static const char *const idc_user_account[] = {"account_type", "user_id", "account_login", NULL};
/* The spec's table for this object lists extensions, so it counts. */
static const char *const one_of_user_account[] = {"extensions",
                                                  "user_id",
                                                  "credential",
                                                  "account_login",
                                                  "account_type",
                                                  "display_name",
                                                  "is_service_account",
                                                  "is_privileged",
                                                  "can_escalate_privs",
                                                  "is_disabled",
                                                  "account_created",
                                                  "account_expires",
                                                  "credential_last_changed",
                                                  "account_first_login",
                                                  "account_last_login",
                                                  NULL};
TYPE(type_user_account, "user-account", SC_SCO, props_user_account, idc_user_account,
     one_of_user_account);

static const struct stix_prop props_windows_registry_key[] = {
        PROP("key", SK_STRING, 0),
        PSUB("values", LIST, type_windows_registry_value),
        PROP("modified_time", SK_TIMESTAMP, 0),
        PREF("creator_user_ref", 0, refs_user_account),
        PROP("number_of_subkeys", SK_INTEGER, 0),
};
static const char *const idc_windows_registry_key[] = {"key", "values", NULL};
static const char *const one_of_windows_registry_key[] = {
        "key", "values", "modified_time", "creator_user_ref", "number_of_subkeys", NULL};
TYPE(type_windows_registry_key, "windows-registry-key", SC_SCO, props_windows_registry_key,
     idc_windows_registry_key, one_of_windows_registry_key);

static const struct stix_prop props_x509_certificate[] = {
        PROP("is_self_signed", SK_BOOLEAN, 0),
        PROP("hashes", SK_HASHES, 0),
        PROP("version", SK_STRING, 0),
        PROP("serial_number", SK_STRING, 0),
        PROP("signature_algorithm", SK_STRING, 0),
        PROP("issuer", SK_STRING, 0),
        PROP("validity_not_before", SK_TIMESTAMP, 0),
        PROP("validity_not_after", SK_TIMESTAMP, 0),
        PROP("subject", SK_STRING, 0),
        PROP("subject_public_key_algorithm", SK_STRING, 0),
        PROP("subject_public_key_modulus", SK_STRING, 0),
        PROP("subject_public_key_exponent", SK_INTEGER, 0),
        PSUB("x509_v3_extensions", 0, type_x509_v3_extensions),
};
static const char *const idc_x509_certificate[] = {"hashes", "serial_number", NULL};
static const char *const one_of_x509_certificate[] = {"is_self_signed",
                                                      "hashes",
                                                      "version",
                                                      "serial_number",
                                                      "signature_algorithm",
                                                      "issuer",
                                                      "validity_not_before",
                                                      "validity_not_after",
                                                      "subject",
                                                      "subject_public_key_algorithm",
                                                      "subject_public_key_modulus",
                                                      "subject_public_key_exponent",
                                                      "x509_v3_extensions",
                                                      NULL};
TYPE(type_x509_certificate, "x509-certificate", SC_SCO, props_x509_certificate,
     idc_x509_certificate, one_of_x509_certificate);

/* ---- section 6: predefined SCO extensions ------------------------------- */

/* file: archive-ext (6.7.2) */
static const struct stix_prop props_archive_ext[] = {
        PREF("contains_refs", REQ | LIST, refs_file_directory),
        PROP("comment", SK_STRING, 0),
};
TYPE(type_archive_ext, "archive-ext", SC_EXTENSION, props_archive_ext, NULL, NULL);

/* file: ntfs-ext (6.7.3) */
static const struct stix_prop props_ntfs_ext[] = {
        PROP("sid", SK_STRING, 0),
        PSUB("alternate_data_streams", LIST, type_alternate_data_stream),
};
static const char *const one_of_ntfs_ext[] = {"sid", "alternate_data_streams", NULL};
TYPE(type_ntfs_ext, "ntfs-ext", SC_EXTENSION, props_ntfs_ext, NULL, one_of_ntfs_ext);

/* file: pdf-ext (6.7.4) */
static const struct stix_prop props_pdf_ext[] = {
        PROP("version", SK_STRING, 0),
        PROP("is_optimized", SK_BOOLEAN, 0),
        PROP("document_info_dict", SK_DICTIONARY, 0),
        PROP("pdfid0", SK_STRING, 0),
        PROP("pdfid1", SK_STRING, 0),
};
static const char *const one_of_pdf_ext[] = {"version", "is_optimized", "document_info_dict",
                                             "pdfid0",  "pdfid1",       NULL};
TYPE(type_pdf_ext, "pdf-ext", SC_EXTENSION, props_pdf_ext, NULL, one_of_pdf_ext);

/* file: raster-image-ext (6.7.5) */
static const struct stix_prop props_raster_image_ext[] = {
        PROP("image_height", SK_INTEGER, 0),
        PROP("image_width", SK_INTEGER, 0),
        PROP("bits_per_pixel", SK_INTEGER, 0),
        PROP("exif_tags", SK_DICTIONARY, 0),
};
static const char *const one_of_raster_image_ext[] = {"image_height", "image_width",
                                                      "bits_per_pixel", "exif_tags", NULL};
TYPE(type_raster_image_ext, "raster-image-ext", SC_EXTENSION, props_raster_image_ext, NULL,
     one_of_raster_image_ext);

/* file: windows-pebinary-ext (6.7.6); time_date_stamp must be precise to the
 * second, which the timestamp check does not know about. */
static const struct stix_prop props_windows_pebinary_ext[] = {
        PROP("pe_type", SK_STRING, REQ),
        PROP("imphash", SK_STRING, 0),
        PROP("machine_hex", SK_HEX, 0),
        PUINT("number_of_sections", 0),
        PROP("time_date_stamp", SK_TIMESTAMP, 0),
        PROP("pointer_to_symbol_table_hex", SK_HEX, 0),
        PUINT("number_of_symbols", 0),
        PUINT("size_of_optional_header", 0),
        PROP("characteristics_hex", SK_HEX, 0),
        PROP("file_header_hashes", SK_HASHES, 0),
        PSUB("optional_header", 0, type_windows_pe_optional_header),
        PSUB("sections", LIST, type_windows_pe_section),
};
/* "At least one property other than the required pe_type". */
static const char *const one_of_windows_pebinary_ext[] = {"imphash",
                                                          "machine_hex",
                                                          "number_of_sections",
                                                          "time_date_stamp",
                                                          "pointer_to_symbol_table_hex",
                                                          "number_of_symbols",
                                                          "size_of_optional_header",
                                                          "characteristics_hex",
                                                          "file_header_hashes",
                                                          "optional_header",
                                                          "sections",
                                                          NULL};
TYPE(type_windows_pebinary_ext, "windows-pebinary-ext", SC_EXTENSION, props_windows_pebinary_ext,
     NULL, one_of_windows_pebinary_ext);

/* network-traffic: http-request-ext (6.12.2) */
static const struct stix_prop props_http_request_ext[] = {
        PROP("request_method", SK_STRING, REQ),     PROP("request_value", SK_STRING, REQ),
        PROP("request_version", SK_STRING, 0),      PROP("request_header", SK_DICTIONARY, 0),
        PROP("message_body_length", SK_INTEGER, 0), PREF("message_body_data_ref", 0, refs_artifact),
};
TYPE(type_http_request_ext, "http-request-ext", SC_EXTENSION, props_http_request_ext, NULL, NULL);

/* network-traffic: icmp-ext (6.12.3) */
static const struct stix_prop props_icmp_ext[] = {
        PROP("icmp_type_hex", SK_HEX, REQ),
        PROP("icmp_code_hex", SK_HEX, REQ),
};
TYPE(type_icmp_ext, "icmp-ext", SC_EXTENSION, props_icmp_ext, NULL, NULL);

/* network-traffic: socket-ext (6.12.4) */
static const struct stix_prop props_socket_ext[] = {
        PENUM("address_family", REQ, enum_socket_address_family),
        PROP("is_blocking", SK_BOOLEAN, 0),
        PROP("is_listening", SK_BOOLEAN, 0),
        PROP("options", SK_DICTIONARY, 0),
        PENUM("socket_type", 0, enum_socket_type),
        PUINT("socket_descriptor", 0),
        PROP("socket_handle", SK_INTEGER, 0),
};
TYPE(type_socket_ext, "socket-ext", SC_EXTENSION, props_socket_ext, NULL, NULL);

/* network-traffic: tcp-ext (6.12.5) */
static const struct stix_prop props_tcp_ext[] = {
        PROP("src_flags_hex", SK_HEX, 0),
        PROP("dst_flags_hex", SK_HEX, 0),
};
static const char *const one_of_tcp_ext[] = {"src_flags_hex", "dst_flags_hex", NULL};
TYPE(type_tcp_ext, "tcp-ext", SC_EXTENSION, props_tcp_ext, NULL, one_of_tcp_ext);

/* process: windows-process-ext (6.13.2). The spec spells the title property
 * windows_title; the OASIS schema and common producers use window_title.
 * Both are accepted. */
static const struct stix_prop props_windows_process_ext[] = {
        PROP("aslr_enabled", SK_BOOLEAN, 0),    PROP("dep_enabled", SK_BOOLEAN, 0),
        PROP("priority", SK_STRING, 0),         PROP("owner_sid", SK_STRING, 0),
        PROP("windows_title", SK_STRING, 0),    PROP("window_title", SK_STRING, 0),
        PROP("startup_info", SK_DICTIONARY, 0), PENUM("integrity_level", 0, enum_integrity_level),
};
static const char *const one_of_windows_process_ext[] = {
        "aslr_enabled", "dep_enabled",  "priority",        "owner_sid", "windows_title",
        "window_title", "startup_info", "integrity_level", NULL};
TYPE(type_windows_process_ext, "windows-process-ext", SC_EXTENSION, props_windows_process_ext, NULL,
     one_of_windows_process_ext);

/* process: windows-service-ext (6.13.3) */
static const struct stix_prop props_windows_service_ext[] = {
        PROP("service_name", SK_STRING, 0),
        PROP("descriptions", SK_STRING, LIST),
        PROP("display_name", SK_STRING, 0),
        PROP("group_name", SK_STRING, 0),
        PENUM("start_type", 0, enum_service_start_type),
        PREF("service_dll_refs", LIST, refs_file),
        PENUM("service_type", 0, enum_service_type),
        PENUM("service_status", 0, enum_service_status),
};
static const char *const one_of_windows_service_ext[] = {
        "service_name",     "descriptions", "display_name",   "group_name", "start_type",
        "service_dll_refs", "service_type", "service_status", NULL};
TYPE(type_windows_service_ext, "windows-service-ext", SC_EXTENSION, props_windows_service_ext, NULL,
     one_of_windows_service_ext);

/* user-account: unix-account-ext (6.16.2) */
static const struct stix_prop props_unix_account_ext[] = {
        PROP("gid", SK_INTEGER, 0),
        PROP("groups", SK_STRING, LIST),
        PROP("home_dir", SK_STRING, 0),
        PROP("shell", SK_STRING, 0),
};
static const char *const one_of_unix_account_ext[] = {"gid", "groups", "home_dir", "shell", NULL};
TYPE(type_unix_account_ext, "unix-account-ext", SC_EXTENSION, props_unix_account_ext, NULL,
     one_of_unix_account_ext);

/* ---- section 7: STIX Meta Objects --------------------------------------- */

static const struct stix_prop props_language_content[] = {
        PREF("object_ref", REQ, refs_stix_object),
        PROP("object_modified", SK_TIMESTAMP, 0),
        PROP("contents", SK_DICTIONARY, REQ),
};
TYPE(type_language_content, "language-content", SC_META, props_language_content, NULL, NULL);

/* definition_type and definition are required only without extensions, and
 * the TLP/statement payload is checked in code. */
static const struct stix_prop props_marking_definition[] = {
        PROP("name", SK_STRING, 0),
        PROP("definition_type", SK_STRING, 0),
        PROP("definition", SK_OBJECT, 0),
};
TYPE(type_marking_definition, "marking-definition", SC_META, props_marking_definition, NULL, NULL);

static const struct stix_prop props_extension_definition[] = {
        PROP("name", SK_STRING, REQ),
        PROP("description", SK_STRING, 0),
        PROP("schema", SK_STRING, REQ),
        PROP("version", SK_STRING, REQ),
        PENUM("extension_types", REQ | LIST, enum_extension_type),
        PROP("extension_properties", SK_STRING, LIST),
};
TYPE(type_extension_definition, "extension-definition", SC_META, props_extension_definition, NULL,
     NULL);

/* ---- the lookup table ---------------------------------------------------- */

/* MUST stay sorted by name in strcmp() order: stix_type_find() bisects it. */
const struct stix_type *const stix_builtin_types[] = {
        &type_alternate_data_stream,
        &type_archive_ext,
        &type_artifact,
        &type_attack_pattern,
        &type_autonomous_system,
        &type_campaign,
        &type_course_of_action,
        &type_directory,
        &type_domain_name,
        &type_email_addr,
        &type_email_message,
        &type_email_mime_component,
        &type_extension_definition,
        &type_file,
        &type_grouping,
        &type_http_request_ext,
        &type_icmp_ext,
        &type_identity,
        &type_incident,
        &type_indicator,
        &type_infrastructure,
        &type_intrusion_set,
        &type_ipv4_addr,
        &type_ipv6_addr,
        &type_language_content,
        &type_location,
        &type_mac_addr,
        &type_malware,
        &type_malware_analysis,
        &type_marking_definition,
        &type_mutex,
        &type_network_traffic,
        &type_note,
        &type_ntfs_ext,
        &type_observed_data,
        &type_opinion,
        &type_pdf_ext,
        &type_process,
        &type_raster_image_ext,
        &type_relationship,
        &type_report,
        &type_sighting,
        &type_socket_ext,
        &type_software,
        &type_tcp_ext,
        &type_threat_actor,
        &type_tool,
        &type_unix_account_ext,
        &type_url,
        &type_user_account,
        &type_vulnerability,
        &type_windows_pe_optional_header,
        &type_windows_pe_section,
        &type_windows_pebinary_ext,
        &type_windows_process_ext,
        &type_windows_registry_key,
        &type_windows_registry_value,
        &type_windows_service_ext,
        &type_x509_certificate,
        &type_x509_v3_extensions,
};

const size_t stix_builtin_ntypes = sizeof(stix_builtin_types) / sizeof(stix_builtin_types[0]);

static int cmp_type_name(const void *key, const void *elem)
{
	const struct stix_type *const *t = elem;

	return strcmp(key, (*t)->name);
}

const struct stix_type *stix_type_find(const char *name)
{
	const struct stix_type *const *found;

	if (name == NULL)
		return NULL;
	found = bsearch(name, stix_builtin_types, stix_builtin_ntypes,
	                sizeof(stix_builtin_types[0]), cmp_type_name);
	return found != NULL ? *found : NULL;
}
