/*
** walbuf: a VFS over SQLite's default ("unix") VFS that gathers the frames
** a transaction appends to its WAL file and writes them in a few large
** write calls when the commit frame is complete, instead of two per frame
** (a 24-byte frame header, then the page). See walbuf.go for why and for
** the argument that it is safe; the rules, in short:
**
**  - Only appends are buffered: a frame header, or the page after it,
**    that starts exactly where the previous write to the file ended.
**    Everything else (the WAL header at
**    offset 0, a page overwritten in place, the checksum rewrite of
**    walRewriteChecksums) flushes what is pending and goes straight
**    through, so it lands in the order SQLite issued it.
**  - When the page of a commit frame (a frame header whose "database size
**    after commit" field is non-zero) has been appended, the buffer is
**    written before the xWrite call returns, and its result is that call's
**    result. SQLite publishes a commit to other connections (the wal-index
**    header) only after that call returned SQLITE_OK, so no reader can see
**    a frame that is not in the file, and a failed write fails the commit.
**  - Every other method (read, sync, truncate, size, lock, file control,
**    close) flushes first, so SQLite never observes the file without its
**    pending writes.
**
** Files other than WAL files are opened by the underlying VFS unchanged.
*/
#include <stdlib.h>
#include <string.h>

#include "sqlite3_vfs.h"
#include "walbuf.h"

#define WAL_FRAME_HDRSIZE 24
/* Pending bytes that force a write even before the commit frame (a very
** large transaction, or a cache spill). */
#define WALBUF_FLUSH_AT (8 * 1024 * 1024)

typedef struct WalFile WalFile;
struct WalFile {
  sqlite3_file base;     /* pMethods is &walMethods */
  sqlite3_file *pReal;   /* the underlying file, stored right after this struct */
  char *aBuf;            /* pending appends */
  int nBuf;              /* bytes pending */
  int szBuf;             /* bytes allocated */
  sqlite3_int64 iBufOff; /* file offset of aBuf[0] */
  sqlite3_int64 iNext;   /* offset just past the last write; -1: unknown */
  int commitHdr;         /* the last frame header written was a commit frame's */
  int hdrGathered;       /* the last write was a frame header, gathered */
};

static sqlite3_vfs *pUnderlying = 0;
/* What the VFS did, for tests and diagnostics: writes it buffered, writes
** it passed straight through, and buffer flushes (write calls made). */
static long long nBuffered = 0, nDirect = 0, nFlushCalls = 0;
static sqlite3_vfs walbufVfs;
static sqlite3_io_methods walMethods;

/* The most the unix VFS writes in one xWrite call (seekAndWriteFd masks
** the length with 0x1ffff). */
#define UNIX_MAX_WRITE 0x1ffff

static int walbufFlush(WalFile *p){
  int rc = SQLITE_OK;
  int done = 0;
  while( rc==SQLITE_OK && done<p->nBuf ){
    int n = p->nBuf-done;
    if( n>UNIX_MAX_WRITE ) n = UNIX_MAX_WRITE;
    rc = p->pReal->pMethods->xWrite(p->pReal, p->aBuf+done, n, p->iBufOff+done);
    __atomic_fetch_add(&nFlushCalls, 1, __ATOMIC_RELAXED);
    done += n;
  }
  p->nBuf = 0;
  if( rc!=SQLITE_OK ) p->iNext = -1;
  return rc;
}

static int walbufAppend(WalFile *p, const void *z, int iAmt, sqlite3_int64 iOfst){
  if( p->nBuf>0 && p->nBuf+iAmt>WALBUF_FLUSH_AT ){
    int rc = walbufFlush(p);
    if( rc!=SQLITE_OK ) return rc;
  }
  if( p->nBuf+iAmt>p->szBuf ){
    int sz = p->szBuf ? p->szBuf : 64 * 1024;
    char *a;
    while( sz<p->nBuf+iAmt ) sz *= 2;
    a = realloc(p->aBuf, sz);
    if( a==0 ){
      /* No memory for the buffer: write what is pending and this write
      ** directly, in order. */
      int rc = walbufFlush(p);
      if( rc==SQLITE_OK ) rc = p->pReal->pMethods->xWrite(p->pReal, z, iAmt, iOfst);
      return rc;
    }
    p->aBuf = a;
    p->szBuf = sz;
  }
  if( p->nBuf==0 ) p->iBufOff = iOfst;
  memcpy(p->aBuf+p->nBuf, z, iAmt);
  p->nBuf += iAmt;
  return SQLITE_OK;
}

static int walbufWrite(sqlite3_file *f, const void *z, int iAmt, sqlite3_int64 iOfst){
  WalFile *p = (WalFile*)f;
  int rc;
  int endsCommit = 0;
  if( iAmt==WAL_FRAME_HDRSIZE ){
    const unsigned char *h = (const unsigned char*)z;
    p->commitHdr = (h[4] | h[5] | h[6] | h[7])!=0;
  }else{
    /* Page data after a commit frame's header: the commit is complete
    ** once it is written. commitHdr stays set until the next header, as
    ** SQLite may write the page in two parts (synchronous=FULL). */
    endsCommit = p->commitHdr;
  }
  /* Only (frame header, page) pairs appended in that order are gathered,
  ** the shape walWriteOneFrame writes; any other write, or a change in
  ** how SQLite writes frames, goes straight through. */
  int pairs = iAmt==WAL_FRAME_HDRSIZE ? !p->hdrGathered : p->hdrGathered;
  p->hdrGathered = 0;
  if( iOfst==0 || iOfst!=p->iNext || !pairs ){
    rc = walbufFlush(p);
    if( rc==SQLITE_OK ) rc = p->pReal->pMethods->xWrite(p->pReal, z, iAmt, iOfst);
    __atomic_fetch_add(&nDirect, 1, __ATOMIC_RELAXED);
  }else{
    rc = walbufAppend(p, z, iAmt, iOfst);
    __atomic_fetch_add(&nBuffered, 1, __ATOMIC_RELAXED);
    p->hdrGathered = rc==SQLITE_OK && iAmt==WAL_FRAME_HDRSIZE;
    if( rc==SQLITE_OK && endsCommit ) rc = walbufFlush(p);
  }
  p->iNext = rc==SQLITE_OK ? iOfst+iAmt : -1;
  return rc;
}

static int walbufClose(sqlite3_file *f){
  WalFile *p = (WalFile*)f;
  int rc = walbufFlush(p);
  int rc2 = p->pReal->pMethods ? p->pReal->pMethods->xClose(p->pReal) : SQLITE_OK;
  free(p->aBuf);
  p->aBuf = 0;
  p->nBuf = p->szBuf = 0;
  return rc!=SQLITE_OK ? rc : rc2;
}

static int walbufRead(sqlite3_file *f, void *z, int iAmt, sqlite3_int64 iOfst){
  WalFile *p = (WalFile*)f;
  int rc = walbufFlush(p);
  return rc!=SQLITE_OK ? rc : p->pReal->pMethods->xRead(p->pReal, z, iAmt, iOfst);
}

static int walbufTruncate(sqlite3_file *f, sqlite3_int64 size){
  WalFile *p = (WalFile*)f;
  int rc = walbufFlush(p);
  p->iNext = -1;
  return rc!=SQLITE_OK ? rc : p->pReal->pMethods->xTruncate(p->pReal, size);
}

static int walbufSync(sqlite3_file *f, int flags){
  WalFile *p = (WalFile*)f;
  int rc = walbufFlush(p);
  return rc!=SQLITE_OK ? rc : p->pReal->pMethods->xSync(p->pReal, flags);
}

static int walbufFileSize(sqlite3_file *f, sqlite3_int64 *pSize){
  WalFile *p = (WalFile*)f;
  int rc = walbufFlush(p);
  return rc!=SQLITE_OK ? rc : p->pReal->pMethods->xFileSize(p->pReal, pSize);
}

static int walbufLock(sqlite3_file *f, int e){
  WalFile *p = (WalFile*)f;
  int rc = walbufFlush(p);
  return rc!=SQLITE_OK ? rc : p->pReal->pMethods->xLock(p->pReal, e);
}

static int walbufUnlock(sqlite3_file *f, int e){
  WalFile *p = (WalFile*)f;
  int rc = walbufFlush(p);
  return rc!=SQLITE_OK ? rc : p->pReal->pMethods->xUnlock(p->pReal, e);
}

static int walbufCheckReservedLock(sqlite3_file *f, int *pResOut){
  WalFile *p = (WalFile*)f;
  int rc = walbufFlush(p);
  return rc!=SQLITE_OK ? rc : p->pReal->pMethods->xCheckReservedLock(p->pReal, pResOut);
}

static int walbufFileControl(sqlite3_file *f, int op, void *pArg){
  WalFile *p = (WalFile*)f;
  int rc = walbufFlush(p);
  return rc!=SQLITE_OK ? rc : p->pReal->pMethods->xFileControl(p->pReal, op, pArg);
}

static int walbufSectorSize(sqlite3_file *f){
  WalFile *p = (WalFile*)f;
  return p->pReal->pMethods->xSectorSize(p->pReal);
}

static int walbufDeviceCharacteristics(sqlite3_file *f){
  WalFile *p = (WalFile*)f;
  return p->pReal->pMethods->xDeviceCharacteristics(p->pReal);
}

/* A WAL file has no shared memory and is never memory-mapped; these only
** forward, should SQLite ever ask. */
static int walbufShmMap(sqlite3_file *f, int iPg, int pgsz, int bExtend, void volatile **pp){
  WalFile *p = (WalFile*)f;
  return p->pReal->pMethods->xShmMap(p->pReal, iPg, pgsz, bExtend, pp);
}

static int walbufShmLock(sqlite3_file *f, int offset, int n, int flags){
  WalFile *p = (WalFile*)f;
  int rc = walbufFlush(p);
  return rc!=SQLITE_OK ? rc : p->pReal->pMethods->xShmLock(p->pReal, offset, n, flags);
}

static void walbufShmBarrier(sqlite3_file *f){
  WalFile *p = (WalFile*)f;
  p->pReal->pMethods->xShmBarrier(p->pReal);
}

static int walbufShmUnmap(sqlite3_file *f, int deleteFlag){
  WalFile *p = (WalFile*)f;
  return p->pReal->pMethods->xShmUnmap(p->pReal, deleteFlag);
}

static int walbufFetch(sqlite3_file *f, sqlite3_int64 iOfst, int iAmt, void **pp){
  WalFile *p = (WalFile*)f;
  int rc = walbufFlush(p);
  return rc!=SQLITE_OK ? rc : p->pReal->pMethods->xFetch(p->pReal, iOfst, iAmt, pp);
}

static int walbufUnfetch(sqlite3_file *f, sqlite3_int64 iOfst, void *pPage){
  WalFile *p = (WalFile*)f;
  return p->pReal->pMethods->xUnfetch(p->pReal, iOfst, pPage);
}

static int walbufOpen(sqlite3_vfs *pVfs, sqlite3_filename zName, sqlite3_file *f, int flags, int *pOutFlags){
  WalFile *p;
  int rc;
  (void)pVfs;
  if( (flags & SQLITE_OPEN_WAL)==0 ){
    /* Not a WAL: the underlying VFS's own file, unwrapped. */
    return pUnderlying->xOpen(pUnderlying, zName, f, flags, pOutFlags);
  }
  p = (WalFile*)f;
  memset(p, 0, sizeof(*p));
  p->pReal = (sqlite3_file*)&p[1];
  p->iNext = -1;
  rc = pUnderlying->xOpen(pUnderlying, zName, p->pReal, flags, pOutFlags);
  if( rc!=SQLITE_OK ){
    /* SQLite calls xClose only when pMethods is set; the underlying file
    ** cleaned itself up. */
    p->base.pMethods = 0;
    return rc;
  }
  p->base.pMethods = &walMethods;
  return SQLITE_OK;
}

void telederm_walbuf_counters(long long *buffered, long long *direct, long long *flushCalls){
  *buffered = __atomic_load_n(&nBuffered, __ATOMIC_RELAXED);
  *direct = __atomic_load_n(&nDirect, __ATOMIC_RELAXED);
  *flushCalls = __atomic_load_n(&nFlushCalls, __ATOMIC_RELAXED);
}

int telederm_walbuf_register(const char *zName){
  if( pUnderlying ) return SQLITE_OK;
  pUnderlying = sqlite3_vfs_find(0);
  if( pUnderlying==0 ) return 1;
  walbufVfs = *pUnderlying;
  walbufVfs.pNext = 0;
  walbufVfs.zName = zName;
  walbufVfs.szOsFile = (int)sizeof(WalFile) + pUnderlying->szOsFile;
  walbufVfs.xOpen = walbufOpen;

  walMethods.iVersion = 3;
  walMethods.xClose = walbufClose;
  walMethods.xRead = walbufRead;
  walMethods.xWrite = walbufWrite;
  walMethods.xTruncate = walbufTruncate;
  walMethods.xSync = walbufSync;
  walMethods.xFileSize = walbufFileSize;
  walMethods.xLock = walbufLock;
  walMethods.xUnlock = walbufUnlock;
  walMethods.xCheckReservedLock = walbufCheckReservedLock;
  walMethods.xFileControl = walbufFileControl;
  walMethods.xSectorSize = walbufSectorSize;
  walMethods.xDeviceCharacteristics = walbufDeviceCharacteristics;
  walMethods.xShmMap = walbufShmMap;
  walMethods.xShmLock = walbufShmLock;
  walMethods.xShmBarrier = walbufShmBarrier;
  walMethods.xShmUnmap = walbufShmUnmap;
  walMethods.xFetch = walbufFetch;
  walMethods.xUnfetch = walbufUnfetch;
  return sqlite3_vfs_register(&walbufVfs, 0);
}
