/* metadata.c: placeholder, being written. */
