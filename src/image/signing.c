/* signing.c: placeholder, being written. */
