package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/telederm/telederm/internal/auth"
	"github.com/telederm/telederm/internal/store/mongo"
)

// stdin is where `telederm users add` reads a password when
// TELEDERM_PASSWORD is not set; tests replace it.
var stdin io.Reader = os.Stdin

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// adminFlags are the flags every admin subcommand shares: where the data
// lives, as serve would find it.
func adminFlags(name string, stderr io.Writer, getenv func(string) string) (*flag.FlagSet, *string, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := getenv("TELEDERM_DATA")
	if def == "" {
		def = "./data"
	}
	data := fs.String("data", def, "data directory, as given to telederm serve (TELEDERM_DATA)")
	store := fs.String("store", getenv("TELEDERM_STORE"), "the store, as given to telederm serve: a MongoDB URI keeps clients, users and "+
		"keys in the database; empty (or sqlite) in --data/auth (TELEDERM_STORE)")
	return fs, data, store
}

// mongoStore reports whether a --store value is a MongoDB URI.
func mongoStore(store string) bool {
	return strings.HasPrefix(store, "mongodb://") || strings.HasPrefix(store, "mongodb+srv://")
}

func checkStore(store string) error {
	if store != "" && store != "sqlite" && !mongoStore(store) {
		return fmt.Errorf("--store %q: want a mongodb:// or mongodb+srv:// URI, or none (sqlite) for the embedded store", store)
	}
	return nil
}

// adminTimeout bounds an admin command's work on the database.
const adminTimeout = time.Minute

// openAdmin is where an admin command acts: the database of a MongoDB
// store, shared by every server process on it, or the data directory's
// files. done closes the database.
func openAdmin(ctx context.Context, data, store string) (admin auth.Admin, done func(), err error) {
	if !mongoStore(store) {
		return auth.FileAdmin(data), func() {}, nil
	}
	s, err := mongo.Open(ctx, store, mongo.Options{AllowNonAtomic: true, Quiet: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return auth.Admin{}, nil, err
	}
	st, err := s.AuthState(ctx)
	if err != nil {
		_ = s.Close()
		return auth.Admin{}, nil, err
	}
	return auth.Admin{State: st}, func() { _ = s.Close() }, nil
}

// withAdmin runs f on the admin of data and store.
func withAdmin(data, store string, f func(ctx context.Context, a auth.Admin) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	a, done, err := openAdmin(ctx, data, store)
	if err != nil {
		return err
	}
	defer done()
	return f(ctx, a)
}

const clientsUsage = `usage: telederm clients <add|list|remove> [flags]

  add     register a client (an app, a GP record system or a hospital system)
  list    list the registered clients
  remove  remove a client

Clients are kept in DATA/auth/clients.json, where a running server sees changes
at once; with --store mongodb://..., in the database, where every server process
sees them within about a second.
`

// clientsCmd is `telederm clients`.
func clientsCmd(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, clientsUsage)
		return 2
	}
	var err error
	switch args[0] {
	case "add":
		err = clientsAdd(args[1:], stdout, stderr, getenv)
	case "list":
		err = clientsList(args[1:], stdout, stderr, getenv)
	case "remove":
		err = clientsRemove(args[1:], stdout, stderr, getenv)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, clientsUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "telederm clients: unknown subcommand %q\n\n%s", args[0], clientsUsage)
		return 2
	}
	return exitCode(stderr, "telederm clients "+args[0], err)
}

// exitCode reports err (2 for bad usage, 1 otherwise).
func exitCode(stderr io.Writer, what string, err error) int {
	var usage usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "%s: %v\n", what, err)
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", what, err)
	return 1
}

// usageError is a mistake in the command line.
type usageError struct{ error }

func parseAdmin(fs *flag.FlagSet, args []string, store *string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if err := checkStore(*store); err != nil {
		return usageError{err}
	}
	return nil
}

func clientsAdd(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, data, store := adminFlags("clients add", stderr, getenv)
	id := fs.String("id", "", "client id (required)")
	typ := fs.String("type", "", "public, confidential-symmetric or confidential-asymmetric (required)")
	jwksFile := fs.String("jwks-file", "", "confidential-asymmetric: file with the client's public JWKS")
	jwksURL := fs.String("jwks-url", "", "confidential-asymmetric: URL where the client publishes its JWKS")
	secretOut := fs.String("secret-out", "", "confidential-symmetric: write the generated secret to this file (mode 0600) instead of printing it")
	var redirects, scopes, launch multiFlag
	fs.Var(&redirects, "redirect-uri", "a redirect URI, matched exactly (repeatable)")
	fs.Var(&scopes, "scope", "scopes the client may be granted, e.g. 'system/*.rs' or 'launch openid fhirUser patient/*.rs' (repeatable)")
	fs.Var(&launch, "launch", "launch types: ehr, standalone, backend, launcher (comma-separated or repeatable)")
	if err := parseAdmin(fs, args, store); err != nil {
		return err
	}
	if *id == "" || *typ == "" {
		return usageError{errors.New("--id and --type are required")}
	}
	spec := auth.ClientSpec{ID: *id, Type: auth.ClientType(*typ), JWKSURL: *jwksURL, RedirectURIs: redirects, Scopes: scopes, Launch: launch}
	if *jwksFile != "" {
		b, err := os.ReadFile(*jwksFile)
		if err != nil {
			return err
		}
		spec.JWKS = b
	}
	if *secretOut != "" && spec.Type != auth.ConfidentialSymmetric {
		return usageError{errors.New("--secret-out is for confidential-symmetric clients")}
	}
	var secret string
	err := withAdmin(*data, *store, func(ctx context.Context, a auth.Admin) (err error) {
		secret, err = a.AddClient(ctx, spec, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Added client %s (%s).\n", *id, *typ)
	if secret == "" {
		return nil
	}
	if *secretOut != "" {
		if err := os.WriteFile(*secretOut, []byte(secret+"\n"), 0o600); err != nil {
			return fmt.Errorf("the client is registered but its secret could not be written (remove and add it again): %w", err)
		}
		fmt.Fprintf(stdout, "Its secret is in %s. It is stored only as a hash: keep it safe.\n", *secretOut)
		return nil
	}
	fmt.Fprintf(stdout, "Client secret (shown once, stored only as a hash):\n%s\n", secret)
	return nil
}

func clientsList(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, data, store := adminFlags("clients list", stderr, getenv)
	if err := parseAdmin(fs, args, store); err != nil {
		return err
	}
	var clients []auth.Client
	err := withAdmin(*data, *store, func(ctx context.Context, a auth.Admin) (err error) {
		clients, err = a.ListClients(ctx)
		return err
	})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tLAUNCH\tSCOPES\tREDIRECT URIS\tKEYS")
	for _, c := range clients {
		keys := "-"
		switch {
		case c.JWKSURL != "":
			keys = c.JWKSURL
		case len(c.JWKS) > 0:
			keys = "JWKS by value"
		case c.SecretHash != "":
			keys = "secret"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Type, strings.Join(c.Launch, ","), strings.Join(c.Scopes, " "),
			orDash(strings.Join(c.RedirectURIs, " ")), keys)
	}
	return tw.Flush()
}

func clientsRemove(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, data, store := adminFlags("clients remove", stderr, getenv)
	id := fs.String("id", "", "client id (required)")
	if err := parseAdmin(fs, args, store); err != nil {
		return err
	}
	if *id == "" {
		return usageError{errors.New("--id is required")}
	}
	if err := withAdmin(*data, *store, func(ctx context.Context, a auth.Admin) error { return a.RemoveClient(ctx, *id) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Removed client %s. Tokens already issued to it stay valid until they expire.\n", *id)
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

const usersUsage = `usage: telederm users <add|list|remove> [flags]

  add     add a local account for standalone launches (password from
          TELEDERM_PASSWORD or the first line of standard input)
  list    list the accounts
  remove  remove an account
`

// usersCmd is `telederm users`.
func usersCmd(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usersUsage)
		return 2
	}
	var err error
	switch args[0] {
	case "add":
		err = usersAdd(args[1:], stdout, stderr, getenv)
	case "list":
		err = usersList(args[1:], stdout, stderr, getenv)
	case "remove":
		err = usersRemove(args[1:], stdout, stderr, getenv)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usersUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "telederm users: unknown subcommand %q\n\n%s", args[0], usersUsage)
		return 2
	}
	return exitCode(stderr, "telederm users "+args[0], err)
}

func usersAdd(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, data, store := adminFlags("users add", stderr, getenv)
	username := fs.String("username", "", "username (required)")
	fhirUser := fs.String("fhir-user", "", "the user's FHIR resource, e.g. Practitioner/123 or Patient/9 (required)")
	patient := fs.String("patient", "", "id of the patient whose record the user opens (default: the user's own for Patient users)")
	if err := parseAdmin(fs, args, store); err != nil {
		return err
	}
	if *username == "" || *fhirUser == "" {
		return usageError{errors.New("--username and --fhir-user are required")}
	}
	password := getenv("TELEDERM_PASSWORD")
	if password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no password: set TELEDERM_PASSWORD or give it on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	err := withAdmin(*data, *store, func(ctx context.Context, a auth.Admin) error {
		return a.AddUser(ctx, *username, *fhirUser, *patient, password, time.Now())
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Added user %s (%s).\n", *username, *fhirUser)
	return nil
}

func usersList(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, data, store := adminFlags("users list", stderr, getenv)
	if err := parseAdmin(fs, args, store); err != nil {
		return err
	}
	var users []auth.User
	err := withAdmin(*data, *store, func(ctx context.Context, a auth.Admin) (err error) {
		users, err = a.ListUsers(ctx)
		return err
	})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tFHIR USER\tPATIENT\tCREATED")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, u.FHIRUser, orDash(u.Patient), u.Created.Format(time.RFC3339))
	}
	return tw.Flush()
}

func usersRemove(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, data, store := adminFlags("users remove", stderr, getenv)
	username := fs.String("username", "", "username (required)")
	if err := parseAdmin(fs, args, store); err != nil {
		return err
	}
	if *username == "" {
		return usageError{errors.New("--username is required")}
	}
	if err := withAdmin(*data, *store, func(ctx context.Context, a auth.Admin) error { return a.RemoveUser(ctx, *username) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Removed user %s.\n", *username)
	return nil
}

const keysUsage = `usage: telederm keys <rotate|list> [flags]

  rotate  make a new signing key current; the old one stays published
          until every token it signed has expired
  list    list the signing keys
`

// keysCmd is `telederm keys`.
func keysCmd(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return 2
	}
	var err error
	switch args[0] {
	case "rotate":
		fs, data, store := adminFlags("keys rotate", stderr, getenv)
		if err = parseAdmin(fs, args[1:], store); err == nil {
			var kid string
			err = withAdmin(*data, *store, func(ctx context.Context, a auth.Admin) (err error) {
				kid, err = a.RotateKeys(ctx, time.Now(), auth.DefaultTokenLifetime+2*time.Minute)
				return err
			})
			if err == nil {
				fmt.Fprintf(stdout, "New signing key %s. Running servers sign with it from their next token (on a shared "+
					"database, within about a second).\n", kid)
			}
		}
	case "list":
		fs, data, store := adminFlags("keys list", stderr, getenv)
		if err = parseAdmin(fs, args[1:], store); err == nil {
			var keys []auth.KeyInfo
			err = withAdmin(*data, *store, func(ctx context.Context, a auth.Admin) (err error) {
				keys, err = a.ListKeys(ctx)
				return err
			})
			if err == nil {
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "KID\tCREATED\tRETIRED")
				for _, k := range keys {
					retired := "current"
					if !k.Retired.IsZero() {
						retired = k.Retired.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", k.KID, k.Created.Format(time.RFC3339), retired)
				}
				err = tw.Flush()
			}
		}
	case "-h", "--help", "help":
		fmt.Fprint(stdout, keysUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "telederm keys: unknown subcommand %q\n\n%s", args[0], keysUsage)
		return 2
	}
	return exitCode(stderr, "telederm keys "+args[0], err)
}
