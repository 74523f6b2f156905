// Command worker serves one Orchestra plugin from Go: it pulls DispatchTask commands from the
// plugin's durable consumer, runs them, and answers each with a TaskOutcome. The protocol it
// follows is docs/workers.md; the messages are in schemas/.
//
//	NATS_URL=nats://127.0.0.1:4222 worker -plugin go-worker -concurrency 4
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
)

const (
	tasksStream = "ORCHESTRA_TASKS"
	// The consumer's settings, exactly as every other worker of the plugin creates it
	// (docs/workers.md, "The consumer to bind"): whoever starts first creates it.
	ackWait       = 10 * time.Second
	maxDeliver    = 5
	maxAckPending = 128
	pullWait      = 2 * time.Second
)

type worker struct {
	plugin   string
	name     string // what the outputs say served them
	nc       *nats.Conn
	js       nats.JetStreamContext
	keepWarm time.Duration // how often a running command gets an in-progress ack

	mu      sync.Mutex
	running map[string]map[*attempt]struct{} // by execution id, for cancel notices
}

// attempt is one command being run; abort stops it with a reason.
type attempt struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	reason string
}

func (a *attempt) abort(reason string) {
	a.mu.Lock()
	if a.reason == "" {
		a.reason = reason
	}
	a.mu.Unlock()
	a.cancel()
}

func main() {
	plugin := flag.String("plugin", "go-worker", "the plugin served (a plan's assigned_plugin or fallback_plugin)")
	concurrency := flag.Int("concurrency", 4, "attempts run at once")
	name := flag.String("name", "go", "the name this worker puts in its outputs (field `worker`)")
	flag.Parse()
	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix(fmt.Sprintf("worker %s: ", *plugin))

	nc, err := connect("orchestra-go-worker-" + *plugin)
	if err != nil {
		log.Fatalf("connect: %v", err)
	}
	js, err := nc.JetStream()
	if err != nil {
		log.Fatalf("jetstream: %v", err)
	}
	info := bindConsumer(js, *plugin)
	w := &worker{
		plugin:   *plugin,
		name:     *name,
		nc:       nc,
		js:       js,
		keepWarm: info.Config.AckWait / 3,
		running:  map[string]map[*attempt]struct{}{},
	}
	// Cancel notices are core NATS, for every execution: subscribe before taking work.
	if _, err := nc.Subscribe("orchestra.control.cancel.*", w.onCancelNotice); err != nil {
		log.Fatalf("subscribe to cancel notices: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var slots sync.WaitGroup
	for i := 0; i < *concurrency; i++ {
		// One pull subscription per slot, all bound to the same durable: a slot asks for a
		// command only when it is free, so no command waits here while another worker idles.
		sub, err := js.PullSubscribe(info.Config.FilterSubject, info.Name, nats.Bind(tasksStream, info.Name))
		if err != nil {
			log.Fatalf("bind %s: %v", info.Name, err)
		}
		slots.Add(1)
		go func() {
			defer slots.Done()
			w.serve(ctx, sub)
		}()
	}
	log.Printf("serving %s on consumer %s (ack wait %s, %d slots)", info.Config.FilterSubject, info.Name, info.Config.AckWait, *concurrency)
	<-ctx.Done()
	// Stop pulling; the attempts running finish and are answered before the connection closes.
	slots.Wait()
	if err := nc.Drain(); err != nil {
		log.Printf("drain: %v", err)
	}
	log.Printf("stopped")
}

func connect(name string) (*nats.Conn, error) {
	url := os.Getenv("NATS_URL")
	if url == "" {
		url = nats.DefaultURL
	}
	options := []nats.Option{nats.Name(name), nats.MaxReconnects(-1)}
	if user := os.Getenv("NATS_USER"); user != "" {
		options = append(options, nats.UserInfo(user, os.Getenv("NATS_PASSWORD")))
	}
	if token := os.Getenv("NATS_TOKEN"); token != "" {
		options = append(options, nats.Token(token))
	}
	if creds := os.Getenv("NATS_CREDS"); creds != "" {
		options = append(options, nats.UserCredentials(creds))
	}
	if prefix := os.Getenv("NATS_INBOX_PREFIX"); prefix != "" {
		options = append(options, nats.CustomInboxPrefix(prefix))
	}
	return nats.Connect(url, options...)
}

// bindConsumer returns the plugin's durable consumer, creating it when nobody has yet. It never
// changes an existing one: a TypeScript dispatcher sets its own max_ack_pending, and a second
// consumer on the same subject is refused by the work-queue stream.
func bindConsumer(js nats.JetStreamContext, plugin string) *nats.ConsumerInfo {
	durable := "dispatch-" + plugin
	config := &nats.ConsumerConfig{
		Durable:       durable,
		FilterSubject: "orchestra.tasks." + plugin,
		AckPolicy:     nats.AckExplicitPolicy,
		DeliverPolicy: nats.DeliverAllPolicy,
		AckWait:       ackWait,
		MaxDeliver:    maxDeliver,
		MaxAckPending: maxAckPending,
	}
	for {
		info, err := js.ConsumerInfo(tasksStream, durable)
		if err == nil {
			return info
		}
		if errors.Is(err, nats.ErrConsumerNotFound) {
			info, err = js.AddConsumer(tasksStream, config)
			if err == nil {
				log.Printf("created consumer %s", durable)
				return info
			}
		}
		// The stream does not exist until Orchestra has started once; another worker may have
		// created the consumer meanwhile: look again.
		log.Printf("consumer %s not ready (%v), retrying", durable, err)
		time.Sleep(time.Second)
	}
}

func (w *worker) serve(ctx context.Context, sub *nats.Subscription) {
	for ctx.Err() == nil {
		msgs, err := sub.Fetch(1, nats.MaxWait(pullWait))
		if err != nil {
			if !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
				log.Printf("fetch: %v", err)
				time.Sleep(time.Second)
			}
			continue
		}
		for _, msg := range msgs {
			w.handle(msg)
		}
	}
}

// handle runs one command: ack it only after its outcome is stored, so that a crash in between
// runs the attempt again rather than losing it (the outcome's msg id makes that harmless).
func (w *worker) handle(msg *nats.Msg) {
	var task DispatchTask
	err := json.Unmarshal(msg.Data, &task)
	if err == nil {
		err = task.check(w.plugin)
	}
	if err != nil {
		// Never redeliver a command that cannot be run: terminate it (Orchestra's own
		// dispatcher also records it on orchestra.dlq.tasks). The attempt then times out.
		log.Printf("terminating a command on %s: %v", msg.Subject, err)
		_ = msg.Term()
		return
	}
	tag := fmt.Sprintf("%s/%s#%d", task.ExecutionID, task.TaskID, task.AttemptNumber)
	if !time.Now().Before(task.Deadline()) {
		log.Printf("%s: deadline passed before start, left to the orchestrator to time out", tag)
		_ = msg.Ack()
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), task.Deadline())
	defer cancel()
	current := &attempt{cancel: cancel}
	w.track(task.ExecutionID, current, true)
	defer w.track(task.ExecutionID, current, false)

	// Keep the command alive while it runs: without an in-progress ack within the consumer's
	// ack wait, the server hands it to another worker and the attempt runs twice.
	done := make(chan struct{})
	go func() {
		ticker := time.NewTicker(w.keepWarm)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				_ = msg.InProgress()
			}
		}
	}()
	log.Printf("%s: %s %s started", tag, task.EntryPoint.Type, task.EntryPoint.Value)
	started := time.Now()
	output, failure := runTask(ctx, &task, w.name)
	close(done)

	if ctx.Err() != nil {
		// Cancelled or past the deadline: answer nothing. The orchestrator has decided already
		// (cancel) or records the timeout itself; the command is done with.
		current.mu.Lock()
		reason := current.reason
		current.mu.Unlock()
		if reason == "" {
			reason = "deadline reached"
		}
		log.Printf("%s: aborted (%s)", tag, reason)
		_ = msg.Ack()
		return
	}
	data, _ := json.Marshal(outcomeOf(&task, started, output, failure))
	// Publish with the msg id and wait for JetStream's ack: then the outcome is stored.
	if _, err := w.js.Publish(outcomeSubject(&task), data, nats.MsgId(outcomeMsgID(&task))); err != nil {
		log.Printf("%s: outcome not stored (%v): the command will be redelivered", tag, err)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	if err := msg.AckSync(); err != nil {
		log.Printf("%s: ack failed (%v): a redelivery answers again, deduplicated by msg id", tag, err)
	}
	status := "succeeded"
	if failure != nil {
		status = "failed: " + failure.Message
	}
	log.Printf("%s: %s", tag, status)
}

func (w *worker) onCancelNotice(msg *nats.Msg) {
	var notice cancelNotice
	if err := json.Unmarshal(msg.Data, &notice); err != nil || notice.ExecutionID == "" {
		// The subject names the execution too; the payload is a convenience.
		notice.ExecutionID = msg.Subject[strings.LastIndex(msg.Subject, ".")+1:]
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for running := range w.running[notice.ExecutionID] {
		running.abort("execution cancelled")
	}
}

func (w *worker) track(executionID string, a *attempt, add bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	set := w.running[executionID]
	if add {
		if set == nil {
			set = map[*attempt]struct{}{}
			w.running[executionID] = set
		}
		set[a] = struct{}{}
		return
	}
	delete(set, a)
	if len(set) == 0 {
		delete(w.running, executionID)
	}
}
