package auth

import "time"

// Admin manages the clients, users and signing keys kept in a State: the
// telederm clients, users and keys commands. The functions of the same
// names taking a data directory act on its files.
type Admin struct{ State State }

// FileAdmin is the Admin of a data directory's files.
func FileAdmin(dataDir string) Admin { return Admin{State: newFileState(Dir(dataDir), time.Now)} }
