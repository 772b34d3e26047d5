// Command urbis is the one Urbis binary: the service, its migrations, the
// agency admin commands and the benchmarks.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := &program{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	if err := p.run(ctx, os.Args[1:]); err != nil {
		os.Exit(1)
	}
}
