/* oci.c: placeholder, being written. */
