package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// userStore is users.json, re-read when it changes so `telederm users`
// takes effect on a running server.
type userStore struct {
	path string
	mu   sync.Mutex
	file os.FileInfo
	doc  usersDoc
}

func openUserStore(dir string) *userStore { return &userStore{path: filepath.Join(dir, usersFile)} }

func (s *userStore) lookup(username string) (*User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi, _ := os.Stat(s.path)
	if s.file == nil || !sameFile(fi, s.file) {
		var doc usersDoc
		if _, err := readJSONFile(s.path, &doc); err != nil {
			return nil, err
		}
		s.doc, s.file = doc, fi
	}
	for i := range s.doc.Users {
		if s.doc.Users[i].Username == username {
			u := s.doc.Users[i]
			return &u, nil
		}
	}
	return nil, nil
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
	path := filepath.Join(Dir(dataDir), usersFile)
	var doc usersDoc
	if _, err := readJSONFile(path, &doc); err != nil {
		return err
	}
	for _, u := range doc.Users {
		if u.Username == username {
			return fmt.Errorf("user %s exists: remove it first to change it", username)
		}
	}
	doc.Users = append(doc.Users, User{Username: username, FHIRUser: fhirUser, Patient: patient, PasswordHash: hash, Created: now.UTC()})
	return writeJSONFile(path, doc)
}

// ListUsers lists the local accounts of dataDir (with password hashes:
// callers print the other fields only).
func ListUsers(dataDir string) ([]User, error) {
	var doc usersDoc
	_, err := readJSONFile(filepath.Join(Dir(dataDir), usersFile), &doc)
	return doc.Users, err
}

// RemoveUser removes a local account.
func RemoveUser(dataDir, username string) error {
	path := filepath.Join(Dir(dataDir), usersFile)
	var doc usersDoc
	if _, err := readJSONFile(path, &doc); err != nil {
		return err
	}
	n := len(doc.Users)
	doc.Users = slices.DeleteFunc(doc.Users, func(u User) bool { return u.Username == username })
	if len(doc.Users) == n {
		return fmt.Errorf("no user %s", username)
	}
	return writeJSONFile(path, doc)
}
