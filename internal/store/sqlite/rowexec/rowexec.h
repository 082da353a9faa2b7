#ifndef TELEDERM_ROWEXEC_H
#define TELEDERM_ROWEXEC_H
#include <stdint.h>
/* Registers, for every connection opened from now on, the SQL function
** telederm_db_handle(): the connection's sqlite3 pointer as an integer.
** 0 on success. */
int telederm_rowexec_install(void);
/* Prepares zSql on the connection db (a telederm_db_handle value) into
** *pStmt; 0 on success, else an SQLite error code, and *pzErr the message
** (valid until the connection's next call). */
int telederm_rowexec_prepare(uintptr_t db, const char *zSql, uintptr_t *pStmt, const char **pzErr);
/* Runs stmt once per row of buf (see rowexec.go for the layout of the n
** bytes), binding the row's number added to base, then rid, then the
** row's values in the order and types of sig ('i' integer, 'd' real, 't'
** text). *pDone is the number of rows written; on failure, the SQLite
** error code is returned and *pzErr is the message. */
int telederm_rowexec_run(uintptr_t stmt, const char *sig, const unsigned char *buf, int n,
  long long base, long long rid, long long *pDone, const char **pzErr);
void telederm_rowexec_finalize(uintptr_t stmt);
#endif
