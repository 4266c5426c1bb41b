/* eif.c: placeholder, being written. */
