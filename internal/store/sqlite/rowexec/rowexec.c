/*
** rowexec: runs a prepared single-row INSERT once per row of a packed
** buffer, in one call from Go. See rowexec.go for why.
*/
#include <stdint.h>
#include <string.h>

#include "sqlite3_rows.h"
#include "rowexec.h"

static void dbHandleFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc; (void)argv;
  sqlite3_result_int64(ctx, (sqlite3_int64)(intptr_t)sqlite3_context_db_handle(ctx));
}

static int registerHandleFunc(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi){
  (void)pzErrMsg; (void)pApi;
  /* DIRECTONLY: callable from a top-level statement only, never from a
  ** trigger or view a database file might bring. */
  return sqlite3_create_function_v2(db, "telederm_db_handle", 0, SQLITE_UTF8|SQLITE_DIRECTONLY,
    0, dbHandleFunc, 0, 0, 0);
}

int telederm_rowexec_install(void){
  return sqlite3_auto_extension((void(*)(void))registerHandleFunc);
}

int telederm_rowexec_prepare(uintptr_t db, const char *zSql, uintptr_t *pStmt, const char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v3((sqlite3*)db, zSql, -1, SQLITE_PREPARE_PERSISTENT, &p, 0);
  *pStmt = (uintptr_t)p;
  *pzErr = rc==SQLITE_OK ? 0 : sqlite3_errmsg((sqlite3*)db);
  return rc;
}

static sqlite3_int64 get64(const unsigned char *p){
  sqlite3_int64 v;
  memcpy(&v, p, 8); /* little-endian, as the Go side writes it */
  return v;
}

int telederm_rowexec_run(uintptr_t stmt, const char *sig, const unsigned char *buf, int n,
    long long base, long long rid, long long *pDone, const char **pzErr){
  sqlite3_stmt *p = (sqlite3_stmt*)stmt;
  int rc = SQLITE_OK, i = 0;
  long long row = 0;
  *pzErr = 0;
  while( i<n && rc==SQLITE_OK ){
    int col = 3;
    const char *s;
    rc = sqlite3_bind_int64(p, 1, base + row);
    if( rc==SQLITE_OK ) rc = sqlite3_bind_int64(p, 2, rid);
    for(s=sig; *s && rc==SQLITE_OK; s++, col++){
      if( *s=='t' ){
        int len;
        if( i+4>n ){ rc = SQLITE_MISUSE; break; }
        len = (int)((unsigned)buf[i] | (unsigned)buf[i+1]<<8 | (unsigned)buf[i+2]<<16 | (unsigned)buf[i+3]<<24);
        i += 4;
        if( len<0 || i+len>n ){ rc = SQLITE_MISUSE; break; }
        /* STATIC: buf outlives the statement's use of it, and the
        ** bindings are cleared before returning. */
        rc = sqlite3_bind_text(p, col, (const char*)buf+i, len, SQLITE_STATIC);
        i += len;
      }else{
        sqlite3_int64 v;
        if( i+8>n ){ rc = SQLITE_MISUSE; break; }
        v = get64(buf+i);
        i += 8;
        if( *s=='d' ){
          double d;
          memcpy(&d, &v, 8);
          rc = sqlite3_bind_double(p, col, d);
        }else{
          rc = sqlite3_bind_int64(p, col, v);
        }
      }
    }
    if( rc==SQLITE_OK ){
      rc = sqlite3_step(p);
      if( rc==SQLITE_DONE ){
        rc = SQLITE_OK;
        row++;
      }else if( rc==SQLITE_ROW ){
        rc = SQLITE_MISUSE; /* an INSERT returns no rows */
      }
    }
    sqlite3_reset(p);
  }
  if( rc!=SQLITE_OK ){
    *pzErr = rc==SQLITE_MISUSE ? "rowexec: malformed row buffer or statement" : sqlite3_errmsg(sqlite3_db_handle(p));
  }
  /* No pointer into Go memory stays behind the call. */
  sqlite3_clear_bindings(p);
  *pDone = row;
  return rc;
}

void telederm_rowexec_finalize(uintptr_t stmt){
  sqlite3_finalize((sqlite3_stmt*)stmt);
}
