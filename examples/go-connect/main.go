// go-connect connects a listing-sync connection the way an app written in Go would: a signal-with-start of the
// `refresh` signal named Connect (docs/app-contract.md), then it waits for the sync's result and prints the summary
// as JSON. A failed sync prints its failure type and message and exits 1.
//
//	go-connect <connectionId> [input-json]   (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE from the environment)
//
// With input-json, that JSON is sent as the workflow's input instead (to see how a malformed start is answered).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
)

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func main() {
	if len(os.Args) != 2 && len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go-connect <connectionId> [input-json]")
		os.Exit(2)
	}
	connectionID := os.Args[1]
	c, err := client.Dial(client.Options{
		HostPort:  env("TEMPORAL_ADDRESS", "localhost:7233"),
		Namespace: env("TEMPORAL_NAMESPACE", "default"),
		// Warnings and errors to stderr: stdout carries only the summary.
		Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect to Temporal:", err)
		os.Exit(1)
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	eventID := fmt.Sprintf("connect-go-%d", time.Now().UnixNano())
	refresh := map[string]string{"eventId": eventID, "detailType": "Connect", "account": ""}
	// The trigger is optional: it says in the UI and in the summary why a run that this call starts exists.
	var input any = map[string]any{
		"connectionId": connectionID,
		"trigger":      map[string]string{"reason": "Refresh after Connect", "eventId": eventID},
	}
	if len(os.Args) == 3 {
		var raw any
		if err := json.Unmarshal([]byte(os.Args[2]), &raw); err != nil {
			fmt.Fprintln(os.Stderr, "input-json:", err)
			os.Exit(2)
		}
		input = raw
	}
	run, err := c.SignalWithStartWorkflow(ctx, "sync-connection-"+connectionID, "refresh", refresh,
		client.StartWorkflowOptions{TaskQueue: env("TEMPORAL_TASK_QUEUE", "listing-sync")},
		"syncConnection", input)
	if err != nil {
		fmt.Fprintln(os.Stderr, "signal-with-start:", err)
		os.Exit(1)
	}
	var summary map[string]any
	if err := run.Get(ctx, &summary); err != nil {
		var app *temporal.ApplicationError
		if errors.As(err, &app) {
			fmt.Fprintf(os.Stderr, "sync failed: %s: %s\n", app.Type(), app.Error())
		} else {
			fmt.Fprintln(os.Stderr, "sync failed:", err)
		}
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(summary)
}
