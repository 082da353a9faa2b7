/*
** The parts of SQLite's public interface (sqlite3.h, public domain) that
** the page cache wrapper needs: the page cache method table, which is
** stable ABI (versioned by iVersion), and sqlite3_config. The definitions
** are those of SQLite's sqlite3.h; the functions resolve at link time to
** the SQLite that github.com/mattn/go-sqlite3 compiles into the binary.
*/
#ifndef TELEDERM_SQLITE3_PCACHE_H
#define TELEDERM_SQLITE3_PCACHE_H

typedef struct sqlite3_pcache sqlite3_pcache;

typedef struct sqlite3_pcache_page sqlite3_pcache_page;
struct sqlite3_pcache_page {
  void *pBuf;
  void *pExtra;
};

typedef struct sqlite3_pcache_methods2 sqlite3_pcache_methods2;
struct sqlite3_pcache_methods2 {
  int iVersion;
  void *pArg;
  int (*xInit)(void*);
  void (*xShutdown)(void*);
  sqlite3_pcache *(*xCreate)(int szPage, int szExtra, int bPurgeable);
  void (*xCachesize)(sqlite3_pcache*, int nCachesize);
  int (*xPagecount)(sqlite3_pcache*);
  sqlite3_pcache_page *(*xFetch)(sqlite3_pcache*, unsigned key, int createFlag);
  void (*xUnpin)(sqlite3_pcache*, sqlite3_pcache_page*, int discard);
  void (*xRekey)(sqlite3_pcache*, sqlite3_pcache_page*, unsigned oldKey, unsigned newKey);
  void (*xTruncate)(sqlite3_pcache*, unsigned iLimit);
  void (*xDestroy)(sqlite3_pcache*);
  void (*xShrink)(sqlite3_pcache*);
};

#define SQLITE_CONFIG_PCACHE2     18
#define SQLITE_CONFIG_GETPCACHE2  19

extern int sqlite3_config(int, ...);
extern void *sqlite3_malloc(int);
extern void sqlite3_free(void*);

#endif
