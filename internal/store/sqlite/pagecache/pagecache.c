/*
** pagecache: SQLite's default page cache (pcache1), wrapped so that the
** truncation at the end of every write transaction costs nothing when
** there is nothing to truncate. See pagecache.go for why.
**
** pcache1 keeps iMaxKey, the largest page number it has held since its
** last truncation, and truncating to a limit L scans every hash bucket
** when iMaxKey - L is at least the number of buckets. The B-tree's
** balance_nonroot swaps two pages' numbers through a temporary one, the
** locking page (PENDING_BYTE / page size + 1, page 262,145 with 4 KiB
** pages), so after any such swap iMaxKey is that number and the truncation
** at commit scans the whole hash table (thousands of buckets with a large
** cache) to drop nothing: no page is ever left at the locking page.
**
** The wrapper keeps its own bound, maxKey: the largest page number a page
** was created at or moved to, leaving out moves to the locking page, which
** are undone within the same balance_nonroot call. No cached page has a
** number above maxKey, except for an instant within balance_nonroot, so a
** truncation whose limit is above maxKey has nothing to drop, and the
** wrapper returns without calling pcache1. Every other truncation (a
** rollback that shrinks the database, a cache clear) goes to pcache1,
** unchanged, and maxKey becomes limit - 1. All other methods pass through.
*/
#include <stddef.h>

#include "sqlite3_pcache.h"
#include "pagecache.h"

/* PENDING_BYTE: the byte offset of SQLite's locking page. Only SQLite's
** test control changes it; were it changed, moves to the locking page
** would count in maxKey and truncations would pass on to pcache1, as
** without the wrapper. */
#define PENDING_BYTE 0x40000000

typedef struct Cache Cache;
struct Cache {
  sqlite3_pcache *pInner; /* pcache1's cache */
  unsigned maxKey;        /* no cached page is numbered above it */
  unsigned lockKey;       /* the locking page's number at this page size */
};

static sqlite3_pcache_methods2 inner; /* pcache1's methods */
static long long nSkipped, nPassed, nLockMoves;

static sqlite3_pcache *pcCreate(int szPage, int szExtra, int bPurgeable){
  Cache *c;
  sqlite3_pcache *p = inner.xCreate(szPage, szExtra, bPurgeable);
  if( p==0 ) return 0;
  c = (Cache*)sqlite3_malloc(sizeof(Cache));
  if( c==0 ){
    inner.xDestroy(p);
    return 0;
  }
  c->pInner = p;
  c->maxKey = 0;
  c->lockKey = szPage>0 ? (unsigned)(PENDING_BYTE / szPage) + 1 : 0;
  return (sqlite3_pcache*)c;
}

static void pcCachesize(sqlite3_pcache *p, int n){
  inner.xCachesize(((Cache*)p)->pInner, n);
}

static int pcPagecount(sqlite3_pcache *p){
  return inner.xPagecount(((Cache*)p)->pInner);
}

static sqlite3_pcache_page *pcFetch(sqlite3_pcache *p, unsigned key, int createFlag){
  Cache *c = (Cache*)p;
  sqlite3_pcache_page *pg = inner.xFetch(c->pInner, key, createFlag);
  if( pg!=0 && key>c->maxKey ) c->maxKey = key;
  return pg;
}

static void pcUnpin(sqlite3_pcache *p, sqlite3_pcache_page *pg, int discard){
  inner.xUnpin(((Cache*)p)->pInner, pg, discard);
}

static void pcRekey(sqlite3_pcache *p, sqlite3_pcache_page *pg, unsigned oldKey, unsigned newKey){
  Cache *c = (Cache*)p;
  inner.xRekey(c->pInner, pg, oldKey, newKey);
  if( newKey==c->lockKey ){
    __atomic_fetch_add(&nLockMoves, 1, __ATOMIC_RELAXED);
  }else if( newKey>c->maxKey ){
    c->maxKey = newKey;
  }
}

static void pcTruncate(sqlite3_pcache *p, unsigned iLimit){
  Cache *c = (Cache*)p;
  if( iLimit>c->maxKey ){
    __atomic_fetch_add(&nSkipped, 1, __ATOMIC_RELAXED);
    return;
  }
  __atomic_fetch_add(&nPassed, 1, __ATOMIC_RELAXED);
  inner.xTruncate(c->pInner, iLimit);
  c->maxKey = iLimit>0 ? iLimit-1 : 0;
}

static void pcDestroy(sqlite3_pcache *p){
  Cache *c = (Cache*)p;
  inner.xDestroy(c->pInner);
  sqlite3_free(c);
}

static void pcShrink(sqlite3_pcache *p){
  inner.xShrink(((Cache*)p)->pInner);
}

static sqlite3_pcache_methods2 wrapped;

int telederm_pagecache_install(void){
  int rc = sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &inner);
  if( rc!=0 ) return rc;
  wrapped = inner; /* iVersion, pArg, xInit, xShutdown as pcache1's */
  wrapped.iVersion = 1;
  wrapped.xCreate = pcCreate;
  wrapped.xCachesize = pcCachesize;
  wrapped.xPagecount = pcPagecount;
  wrapped.xFetch = pcFetch;
  wrapped.xUnpin = pcUnpin;
  wrapped.xRekey = pcRekey;
  wrapped.xTruncate = pcTruncate;
  wrapped.xDestroy = pcDestroy;
  wrapped.xShrink = pcShrink;
  return sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrapped);
}

void telederm_pagecache_counters(long long *skipped, long long *passed, long long *lockMoves){
  *skipped = __atomic_load_n(&nSkipped, __ATOMIC_RELAXED);
  *passed = __atomic_load_n(&nPassed, __ATOMIC_RELAXED);
  *lockMoves = __atomic_load_n(&nLockMoves, __ATOMIC_RELAXED);
}
