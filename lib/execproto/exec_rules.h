/* exec_rules.h: what the exec service may run (docs/workflow.md). `alcove build` writes the
 * rules, from alcove.json's entry_points and env.untrusted, into the measured image as
 * /.alcove/exec.rules, one per line: "entry PATH" (an absolute path; a directory admits what is
 * under it, as `alcove run` admits), "untrusted NAME" (a variable the host may set) or "default
 * NAME=VALUE" (env.default: every program's environment). The service reads them in the enclave
 * and checks every request against them there. Pure. */
#ifndef ALCOVE_EXEC_RULES_H
#define ALCOVE_EXEC_RULES_H

#include <stdbool.h>
#include <stddef.h>

#define EXEC_RULES_PATH "/.alcove/exec.rules"
#define EXEC_RULES_MAX  1024 /* entries of each kind */
/* The rules file's size: the service reads less than this (alcove build refuses more) */
#define EXEC_RULES_TEXT_MAX (256u * 1024)

struct exec_rules {
    const char *entry[EXEC_RULES_MAX];
    size_t nentry;
    const char *untrusted[EXEC_RULES_MAX];
    size_t nuntrusted;
    const char *defaults[EXEC_RULES_MAX]; /* "NAME=VALUE" */
    size_t ndefault;
};

/* Parses text[0..len) in place (newlines become NULs): 0, or -1 with *line (1-based) set for a
 * line that is not "entry /ABS/PATH", "untrusted NAME" or "default NAME=VALUE", a NUL, or more
 * than EXEC_RULES_MAX of a kind. An empty text is no entry point at all (nothing may run). */
int exec_rules_parse(char *text, size_t len, struct exec_rules *r, size_t *line);

/* The rules file for the given lists, malloc'd ("entry PATH", "untrusted NAME", "default
 * NAME=VALUE" lines, in that order), or NULL (out of memory). The caller checked the items. */
char *exec_rules_text(const char *const *entry, size_t nentry, const char *const *untrusted,
                      size_t nuntrusted, const char *const *defaults, size_t ndefault);

/* An absolute path without empty, "." or ".." components (so that "/bin/../x" cannot pass as
 * under "/bin"). */
bool exec_path_ok(const char *s);

/* Whether path is an entry point or under one. */
bool exec_rules_entry_allowed(const struct exec_rules *r, const char *path);

/* The rule itself, for any list (alcove run checks alcove.json's entry_points with it): path
 * passes exec_path_ok and equals one of entries[0..n) or lies under one ("/bin" and "/bin/"
 * admit "/bin/sh"; "/" admits every clean path). Paths are compared as text. */
bool exec_entry_match(const char *const *entries, size_t n, const char *path);

/* Whether name[0..n) is an untrusted name. */
bool exec_rules_env_allowed(const struct exec_rules *r, const char *name, size_t n);

/* A program's environment (docs/workflow.md): the rules' defaults, then those of the service's
 * own variables (service, NULL-terminated: alcove start's --env, on top of the image's env)
 * whose names are untrusted, then the request's req[0..nreq) (checked already), each replacing
 * an earlier one of the same name. Variables the host gave the service under other names are
 * left out. out has room for ndefault + count(service) + nreq + 1 pointers; it is
 * NULL-terminated. The count. */
size_t exec_env_compose(const struct exec_rules *r, char *const *service, char *const *req,
                        int nreq, const char **out);

#endif
