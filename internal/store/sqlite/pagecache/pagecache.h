#ifndef TELEDERM_PAGECACHE_H
#define TELEDERM_PAGECACHE_H
/* Installs the wrapper as SQLite's page cache; it must run before SQLite
** is initialised (before the first connection opens). 0 on success, else
** SQLite's error code (SQLITE_MISUSE, 21: SQLite was already initialised). */
int telederm_pagecache_install(void);
/* How many truncations the wrapper skipped (nothing at or above the limit
** was cached) and passed on to SQLite's own cache, and how many times a
** page moved to the locking page's number, since the program started. */
void telederm_pagecache_counters(long long *skipped, long long *passed, long long *lockMoves);
#endif
