/* progress.c: placeholder, being written. */
