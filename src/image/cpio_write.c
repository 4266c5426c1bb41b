/* cpio_write.c: placeholder, being written. */
