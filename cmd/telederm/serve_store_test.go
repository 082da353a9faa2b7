package main

import (
	"io"
	"testing"
)

// --store and --mongo-non-atomic-transactions, and their environment
// variables; the flag wins.
func TestServeStoreFlags(t *testing.T) {
	env := map[string]string{"TELEDERM_STORE": "mongodb://env/telederm", "TELEDERM_MONGO_NON_ATOMIC_TRANSACTIONS": "true"}
	c, err := parseServeFlags(nil, io.Discard, func(k string) string { return env[k] })
	if err != nil || c.store != "mongodb://env/telederm" || !c.mongoNonAtomic {
		t.Fatalf("from the environment: %+v, %v", c, err)
	}
	c, err = parseServeFlags([]string{"--store", "mongodb://a,b/td?replicaSet=rs0"}, io.Discard, func(string) string { return "" })
	if err != nil || c.store != "mongodb://a,b/td?replicaSet=rs0" || c.mongoNonAtomic {
		t.Fatalf("from the flag: %+v, %v", c, err)
	}
}
