#ifndef TELEDERM_WALBUF_H
#define TELEDERM_WALBUF_H
/* Registers the walbuf VFS under zName (a string that lives for the
** program's life), over the default VFS; 0 on success. */
int telederm_walbuf_register(const char *zName);
/* How many WAL writes the VFS buffered and passed straight through, and
** how many write calls its flushes made, since the program started. */
void telederm_walbuf_counters(long long *buffered, long long *direct, long long *flushCalls);
#endif
