package auth

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// passwordIterations is the PBKDF2-SHA256 work factor for new password
// hashes (OWASP's figure for 2023 on). A stored hash keeps its own count,
// so raising this affects only passwords set afterwards.
var passwordIterations = 600_000

// User is a local account that can sign in for a standalone launch.
type User struct {
	Username string `json:"username"`
	// FHIRUser is the FHIR resource the user is: Practitioner/123,
	// Patient/9 ...
	FHIRUser string `json:"fhir_user"`
	// Patient is the patient whose record the user sees in a standalone
	// launch (a patient's own, or a carer's charge); empty for clinicians,
	// who pick a patient on the approval page.
	Patient      string    `json:"patient,omitempty"`
	PasswordHash string    `json:"password_hash"`
	Created      time.Time `json:"created"`
}

type usersDoc struct {
	Users []User `json:"users"`
}

// userStore is the users document, read again when its version changes
// so `telederm users` takes effect on a running server: checked at every
// sign-in with files, at most once per pollEvery on a shared state.
type userStore struct {
	st     State
	shared bool

	mu      sync.Mutex
	loaded  bool
	version int64
	polled  time.Time
	doc     usersDoc
}

// openUserStore reads the users of an auth directory's users.json.
func openUserStore(dir string) *userStore { return &userStore{st: newFileState(dir, time.Now)} }

func (s *userStore) lookup(username string) (*User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded || !s.shared || time.Since(s.polled) >= pollEvery {
		if err := s.reloadLocked(); err != nil {
			return nil, err
		}
	}
	for i := range s.doc.Users {
		if s.doc.Users[i].Username == username {
			u := s.doc.Users[i]
			return &u, nil
		}
	}
	return nil, nil
}

func (s *userStore) reloadLocked() error {
	ctx, cancel := stateCtx()
	defer cancel()
	s.polled = time.Now()
	if s.loaded {
		v, err := s.st.DocVersion(ctx, docUsers)
		if err != nil || v == s.version {
			return err
		}
	}
	doc, v, err := loadDoc[usersDoc](ctx, s.st, docUsers)
	if err != nil {
		return err
	}
	s.doc, s.version, s.loaded = doc, v, true
	return nil
}

// dummyHash is checked against when the username is unknown, so that a
// wrong username takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := hashPassword("not a password anyone has", passwordIterations)
	return h
})

// authenticate checks a username and password.
func (s *userStore) authenticate(username, password string) (*User, error) {
	u, err := s.lookup(username)
	if err != nil {
		return nil, err
	}
	if u == nil {
		checkPassword(password, dummyHash())
		return nil, nil
	}
	if !checkPassword(password, u.PasswordHash) {
		return nil, nil
	}
	return u, nil
}

// hashPassword is PBKDF2-SHA256 with a random 16-byte salt, stored as
// pbkdf2-sha256$iterations$salt$hash (base64).
func hashPassword(password string, iterations int) (string, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", iterations, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

func checkPassword(password, stored string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[2])
	want, err2 := b64.DecodeString(parts[3])
	if err != nil || err1 != nil || err2 != nil || iter < 1 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

var (
	usernamePattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
	fhirUserTypes   = []string{"Practitioner", "PractitionerRole", "Patient", "RelatedPerson", "Person"}
)

// validFHIRUser checks a fhirUser reference: Type/id of a type that can be
// a user.
func validFHIRUser(ref string) error {
	typ, id, ok := strings.Cut(ref, "/")
	if !ok || !slices.Contains(fhirUserTypes, typ) || !idPattern.MatchString(id) {
		return fmt.Errorf("fhirUser %q must be Type/id with Type one of %s", ref, strings.Join(fhirUserTypes, ", "))
	}
	return nil
}

// AddUser adds a local account to dataDir; the password is hashed with
// PBKDF2-SHA256 and never stored.
func AddUser(dataDir, username, fhirUser, patient, password string, now time.Time) error {
	return FileAdmin(dataDir).AddUser(context.Background(), username, fhirUser, patient, password, now)
}

// AddUser adds a local account (see the function AddUser).
func (a Admin) AddUser(ctx context.Context, username, fhirUser, patient, password string, now time.Time) error {
	if !usernamePattern.MatchString(username) {
		return errors.New("username: 1 to 64 letters, digits and . _ @ -")
	}
	if err := validFHIRUser(fhirUser); err != nil {
		return err
	}
	if strings.HasPrefix(fhirUser, "Patient/") && patient == "" {
		patient = strings.TrimPrefix(fhirUser, "Patient/")
	}
	if patient != "" && !idPattern.MatchString(patient) {
		return fmt.Errorf("patient %q is not a FHIR id", patient)
	}
	if len(password) < 8 {
		return errors.New("the password must have at least 8 characters")
	}
	hash, err := hashPassword(password, passwordIterations)
	if err != nil {
		return err
	}
	_, _, err = updateDoc(ctx, a.State, docUsers, func(doc *usersDoc) (bool, error) {
		for _, u := range doc.Users {
			if u.Username == username {
				return false, fmt.Errorf("user %s exists: remove it first to change it", username)
			}
		}
		doc.Users = append(doc.Users, User{Username: username, FHIRUser: fhirUser, Patient: patient, PasswordHash: hash, Created: now.UTC()})
		return true, nil
	})
	return err
}

// ListUsers lists the local accounts of dataDir (with password hashes:
// callers print the other fields only).
func ListUsers(dataDir string) ([]User, error) {
	return FileAdmin(dataDir).ListUsers(context.Background())
}

// ListUsers lists the local accounts (with password hashes: callers
// print the other fields only).
func (a Admin) ListUsers(ctx context.Context) ([]User, error) {
	doc, _, err := loadDoc[usersDoc](ctx, a.State, docUsers)
	return doc.Users, err
}

// RemoveUser removes a local account.
func RemoveUser(dataDir, username string) error {
	return FileAdmin(dataDir).RemoveUser(context.Background(), username)
}

// RemoveUser removes a local account.
func (a Admin) RemoveUser(ctx context.Context, username string) error {
	_, _, err := updateDoc(ctx, a.State, docUsers, func(doc *usersDoc) (bool, error) {
		n := len(doc.Users)
		doc.Users = slices.DeleteFunc(doc.Users, func(u User) bool { return u.Username == username })
		if len(doc.Users) == n {
			return false, fmt.Errorf("no user %s", username)
		}
		return true, nil
	})
	return err
}
