/*
** The parts of SQLite's public interface (sqlite3.h, public domain) that
** rowexec needs. The declarations are those of SQLite's sqlite3.h; the
** functions resolve at link time to the SQLite that
** github.com/mattn/go-sqlite3 compiles into the binary, so no system
** sqlite3.h or libsqlite3 is needed.
*/
#ifndef TELEDERM_SQLITE3_ROWS_H
#define TELEDERM_SQLITE3_ROWS_H

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
typedef struct sqlite3_context sqlite3_context;
typedef struct sqlite3_value sqlite3_value;
typedef struct sqlite3_api_routines sqlite3_api_routines;
typedef long long int sqlite3_int64;
typedef void (*sqlite3_destructor_type)(void*);

#define SQLITE_OK                 0
#define SQLITE_MISUSE             21
#define SQLITE_ROW                100
#define SQLITE_DONE               101
#define SQLITE_UTF8               1
#define SQLITE_DIRECTONLY         0x000080000
#define SQLITE_PREPARE_PERSISTENT 0x01
#define SQLITE_STATIC             ((sqlite3_destructor_type)0)

extern int sqlite3_auto_extension(void(*xEntryPoint)(void));
extern int sqlite3_create_function_v2(sqlite3 *db, const char *zFunctionName, int nArg,
  int eTextRep, void *pApp,
  void (*xFunc)(sqlite3_context*, int, sqlite3_value**),
  void (*xStep)(sqlite3_context*, int, sqlite3_value**),
  void (*xFinal)(sqlite3_context*), void(*xDestroy)(void*));
extern sqlite3 *sqlite3_context_db_handle(sqlite3_context*);
extern void sqlite3_result_int64(sqlite3_context*, sqlite3_int64);
extern int sqlite3_prepare_v3(sqlite3 *db, const char *zSql, int nByte, unsigned int prepFlags,
  sqlite3_stmt **ppStmt, const char **pzTail);
extern int sqlite3_bind_int64(sqlite3_stmt*, int, sqlite3_int64);
extern int sqlite3_bind_double(sqlite3_stmt*, int, double);
extern int sqlite3_bind_text(sqlite3_stmt*, int, const char*, int, void(*)(void*));
extern int sqlite3_bind_parameter_count(sqlite3_stmt*);
extern int sqlite3_step(sqlite3_stmt*);
extern int sqlite3_reset(sqlite3_stmt*);
extern int sqlite3_clear_bindings(sqlite3_stmt*);
extern int sqlite3_finalize(sqlite3_stmt*);
extern sqlite3 *sqlite3_db_handle(sqlite3_stmt*);
extern const char *sqlite3_errmsg(sqlite3*);
extern const char *sqlite3_errstr(int);

#endif
