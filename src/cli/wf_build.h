/* wf_build.h: `alcove build`'s work, shared with `alcove package`. */
#ifndef ALCOVE_WF_BUILD_H
#define ALCOVE_WF_BUILD_H

#define WF_EIF_PATH "build/enclave.eif" /* under the directory */

/* Builds DIR/build/enclave.eif from DIR/image and DIR/alcove.json unless nothing changed since
 * the last build; prints the measurements on stdout when print is set. cert and key (both or
 * neither) sign it. Returns 0 or an error code (reported). */
int wf_build(const char *dir, const char *cert, const char *key, int print);

#endif
