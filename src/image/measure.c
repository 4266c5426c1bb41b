/* measure.c: placeholder, being written. */
