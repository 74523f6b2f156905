// Command client submits a plan to Orchestra from Go and waits for its execution_results: it
// publishes ExecutePlan with JetStream, follows the execution's events, and prints the final
// execution_results (JSON) on stdout. The protocol is docs/workers.md ("Clients").
//
//	NATS_URL=nats://127.0.0.1:4222 client -plan plan.json -id my-run-1
//
// Exit status: 0 when the execution completed, 1 when it ended otherwise (partial, failed,
// cancelled, rejected) or could not be followed, 2 for bad usage.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

// ExecutePlan is the command (schemas/execute-plan.schema.json). The plan is sent as read: the
// orchestrator validates it and answers an invalid one with an ExecutionRejected event.
type ExecutePlan struct {
	Type        string          `json:"type"`
	Plan        json.RawMessage `json:"plan"`
	ExecutionID string          `json:"execution_id"`
}

// Event is what the client reads of each event (schemas/execution-event.schema.json).
type Event struct {
	Type    string `json:"type"`
	PhaseID string `json:"phase_id,omitempty"`
	TaskID  string `json:"task_id,omitempty"`
	Attempt int    `json:"attempt_number,omitempty"`
	Status  string `json:"status,omitempty"`
	Error   string `json:"error,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

var final = map[string]bool{"completed": true, "partial": true, "failed": true, "cancelled": true, "rejected": true}

func main() {
	planFile := flag.String("plan", "", "the plan, as a JSON file (required)")
	id := flag.String("id", "", "the execution id (default: a new one); submitting the same id again starts nothing new")
	timeout := flag.Duration("timeout", 5*time.Minute, "how long to wait for the execution to end")
	flag.Parse()
	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix("client: ")
	if *planFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	plan, err := os.ReadFile(*planFile)
	if err != nil || !json.Valid(plan) {
		log.Printf("read %s: not a JSON file (%v)", *planFile, err)
		os.Exit(2)
	}
	if *id == "" {
		*id = newExecutionID()
	}

	nc, err := connect()
	if err != nil {
		log.Fatalf("connect: %v", err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		log.Fatalf("jetstream: %v", err)
	}

	command, _ := json.Marshal(ExecutePlan{Type: "ExecutePlan", Plan: plan, ExecutionID: *id})
	// The publish ack means "stored, will run", even while no orchestrator is up. The msg id is
	// the execution id: publishing the same command again is deduplicated.
	ack, err := js.Publish("orchestra.cmd.execute", command, nats.MsgId(*id))
	if err != nil {
		log.Fatalf("submit: %v", err)
	}
	log.Printf("submitted %s (stream %s, sequence %d, duplicate %v)", *id, ack.Stream, ack.Sequence, ack.Duplicate)

	// History then live events: an ordered consumer from the first record of the execution.
	events, err := js.Subscribe("orchestra.events."+*id, printRecord, nats.OrderedConsumer(), nats.DeliverAll())
	if err != nil {
		log.Fatalf("follow events: %v", err)
	}
	defer events.Unsubscribe()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	results, err := waitForResults(ctx, js, *id)
	if err != nil {
		log.Fatalf("%s: %v", *id, err)
	}
	var summary struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(results, &summary)
	fmt.Println(string(results))
	log.Printf("%s ended %s", *id, summary.Status)
	if summary.Status != "completed" {
		os.Exit(1)
	}
}

// printRecord logs the events of one record: a stored message is a JSON array of the events
// one decision made, in order.
func printRecord(msg *nats.Msg) {
	var record []Event
	if err := json.Unmarshal(msg.Data, &record); err != nil {
		log.Printf("unreadable record on %s: %v", msg.Subject, err)
		return
	}
	for _, e := range record {
		line := e.Type
		for _, part := range []string{e.PhaseID, e.TaskID} {
			if part != "" {
				line += " " + part
			}
		}
		if e.Attempt > 0 {
			line += fmt.Sprintf(" #%d", e.Attempt)
		}
		for _, part := range []string{e.Status, e.Error, e.Reason} {
			if part != "" {
				line += ": " + part
			}
		}
		log.Print(line)
	}
}

// waitForResults watches the execution's key in the KV bucket orchestra_results until its
// execution_results say it has ended, and returns them.
func waitForResults(ctx context.Context, js nats.JetStreamContext, id string) (json.RawMessage, error) {
	kv, err := js.KeyValue("orchestra_results")
	if err != nil {
		return nil, fmt.Errorf("open the results bucket: %w", err)
	}
	watcher, err := kv.Watch(id, nats.Context(ctx))
	if err != nil {
		return nil, fmt.Errorf("watch the results: %w", err)
	}
	defer watcher.Stop()
	for {
		select {
		case entry := <-watcher.Updates():
			if entry == nil || entry.Operation() != nats.KeyValuePut {
				continue // nil: the end of the values already stored
			}
			var results struct {
				Status string `json:"status"`
			}
			if err := json.Unmarshal(entry.Value(), &results); err != nil {
				return nil, fmt.Errorf("unreadable execution_results: %w", err)
			}
			if final[results.Status] {
				return entry.Value(), nil
			}
		case <-ctx.Done():
			return nil, errors.New("timed out waiting for the execution to end")
		}
	}
}

func connect() (*nats.Conn, error) {
	url := os.Getenv("NATS_URL")
	if url == "" {
		url = nats.DefaultURL
	}
	options := []nats.Option{nats.Name("orchestra-go-client")}
	if user := os.Getenv("NATS_USER"); user != "" {
		options = append(options, nats.UserInfo(user, os.Getenv("NATS_PASSWORD")))
	}
	if token := os.Getenv("NATS_TOKEN"); token != "" {
		options = append(options, nats.Token(token))
	}
	if creds := os.Getenv("NATS_CREDS"); creds != "" {
		options = append(options, nats.UserCredentials(creds))
	}
	return nats.Connect(url, options...)
}

// newExecutionID: letters, digits, "-" and "_" only (it becomes a subject token).
func newExecutionID() string {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	return fmt.Sprintf("go-%d-%s", time.Now().UnixMilli(), hex.EncodeToString(suffix))
}
