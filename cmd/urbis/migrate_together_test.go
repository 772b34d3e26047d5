package main

import (
	"os"
	"os/exec"
	"sync"
	"testing"
)

// TestMigrateTogether starts urbis migrate up and urbis agency create as
// two processes at once on a fresh data directory, as a user does who
// starts urbis serve and creates an agency right away: both open and
// migrate the new database, and neither may fail. Before opening and
// migrating took a lock on the data directory, pairs failed with "table
// ... already exists" (8 of 20) and, once migrations were locked, with
// SQLITE_BUSY while the two opened the new file (3 of 8 runs of this
// test).
func TestMigrateTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("starts twenty processes")
	}
	for round := range 10 {
		dir := t.TempDir()
		cmds := []*exec.Cmd{
			exec.Command(os.Args[0], "migrate", "up", "--data-dir", dir),
			exec.Command(os.Args[0], "agency", "create", "--data-dir", dir, "--name", "Land Registry", "--output", "key"),
		}
		outs := make([][]byte, len(cmds))
		errs := make([]error, len(cmds))
		var wg sync.WaitGroup
		for i, c := range cmds {
			c.Env = append(os.Environ(), "URBIS_TEST_AS_MAIN=1")
			wg.Go(func() { outs[i], errs[i] = c.CombinedOutput() })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v: %v\n%s", round, cmds[i].Args[1:], err, outs[i])
			}
		}
	}
}
