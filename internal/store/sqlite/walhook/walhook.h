#ifndef TELEDERM_WALHOOK_H
#define TELEDERM_WALHOOK_H
#include <stdint.h>
/* Makes the connection db (a telederm_db_handle value) store, after each
** commit, the number of frames its WAL holds into *pFrames. This replaces
** the connection's automatic checkpoints (sqlite3_wal_hook and
** wal_autocheckpoint share one slot). *pFrames must outlive the
** connection or the next telederm_walhook_unwatch. */
void telederm_walhook_watch(uintptr_t db, int64_t *pFrames);
/* Removes the hook from db. */
void telederm_walhook_unwatch(uintptr_t db);
#endif
