// Command telederm is the Telederm FHIR R4 server and its tools.
//
//	telederm serve [flags]        run the server
//	telederm conformance [flags]  run the conformance suite against a FHIR server
//	telederm bench [flags]        run the load generator against a FHIR server
//	telederm clients <add|list|remove>  manage the OAuth clients of the server
//	telederm users <add|list|remove>    manage local accounts for standalone launch
//	telederm keys <rotate|list>         manage the token signing keys
//	telederm seed --referrals N   create a sandbox region in a data directory
//	telederm version              print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `usage: telederm <command> [flags]

commands:
  serve        run the FHIR server (telederm serve -h for its flags)
  conformance  run the conformance suite against any FHIR R4 server
  bench        run the load generator against any FHIR R4 server
  clients      register, list and remove OAuth clients (apps, GP and hospital systems)
  users        add, list and remove local accounts for standalone launches
  keys         rotate and list the token signing keys
  seed         create a sandbox region of referrals and answers in a data directory
  version      print the version
`

// run is main without the process: tests call it with their own arguments,
// environment and context.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, getenv)
	case "conformance":
		return conformanceCmd(ctx, args[1:], stdout, stderr, getenv)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr, getenv)
	case "clients":
		return clientsCmd(args[1:], stdout, stderr, getenv)
	case "users":
		return usersCmd(args[1:], stdout, stderr, getenv)
	case "keys":
		return keysCmd(args[1:], stdout, stderr, getenv)
	case "seed":
		return seedCmd(ctx, args[1:], stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, "telederm", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "telederm: unknown command %q\n\n%s", args[0], usage)
	return 2
}
