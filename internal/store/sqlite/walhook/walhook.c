/*
** walhook: counts the frames in a connection's WAL after each commit.
** See walhook.go for why.
*/
#include <stdint.h>

#include "walhook.h"

/* From SQLite's sqlite3.h (public domain); the functions resolve at link
** time to the SQLite that github.com/mattn/go-sqlite3 compiles in. */
typedef struct sqlite3 sqlite3;
extern void *sqlite3_wal_hook(sqlite3*, int(*)(void*, sqlite3*, const char*, int), void*);

static int countFrames(void *pArg, sqlite3 *db, const char *zDb, int nFrame){
  (void)db; (void)zDb;
  __atomic_store_n((int64_t*)pArg, (int64_t)nFrame, __ATOMIC_RELEASE);
  return 0; /* SQLITE_OK: the commit stands, whatever the hook does */
}

void telederm_walhook_watch(uintptr_t db, int64_t *pFrames){
  sqlite3_wal_hook((sqlite3*)db, countFrames, pFrames);
}

void telederm_walhook_unwatch(uintptr_t db){
  sqlite3_wal_hook((sqlite3*)db, 0, 0);
}
