package main

import (
	"encoding/json"
	"fmt"
	"time"
)

// The messages of the worker protocol (docs/workers.md). Field names and types follow the
// published JSON Schemas: schemas/dispatch-task.schema.json and schemas/task-outcome.schema.json.

// DispatchTask is one attempt of one task, received on orchestra.tasks.<plugin>. Unknown fields
// are ignored (encoding/json's default), so a newer Orchestra adding a field breaks nothing.
type DispatchTask struct {
	Type          string          `json:"type"`
	ExecutionID   string          `json:"execution_id"`
	PlanID        string          `json:"plan_id"`
	PhaseID       string          `json:"phase_id"`
	TaskID        string          `json:"task_id"`
	AttemptNumber int             `json:"attempt_number"`
	Plugin        string          `json:"plugin"`
	Description   string          `json:"description"`
	EntryPoint    EntryPoint      `json:"entry_point"`
	InputContext  json.RawMessage `json:"input_context"`
	OutputKey     string          `json:"output_key"`
	DispatchedAt  int64           `json:"dispatched_at"` // epoch milliseconds
	DeadlineAt    int64           `json:"deadline_at"`   // epoch milliseconds
}

// EntryPoint says what to run: the plan's `type` and `value`, passed through as written.
type EntryPoint struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Deadline is when the orchestrator times the attempt out: work past it is wasted.
func (t *DispatchTask) Deadline() time.Time { return time.UnixMilli(t.DeadlineAt) }

func (t *DispatchTask) check(plugin string) error {
	switch {
	case t.Type != "DispatchTask":
		return fmt.Errorf("type is %q, not DispatchTask", t.Type)
	case t.ExecutionID == "" || t.PhaseID == "" || t.TaskID == "" || t.AttemptNumber < 1:
		return fmt.Errorf("execution_id, phase_id, task_id and attempt_number are required")
	case t.Plugin != plugin:
		return fmt.Errorf("a command for plugin %q on the queue of %q", t.Plugin, plugin)
	}
	return nil
}

// The outcome has two shapes and no other keys: `output` only when it succeeded, `error` only
// when it failed. Its status says "succeeded"; execution_results later say "success".
type outcomeFields struct {
	Type          string `json:"type"` // always "TaskOutcome"
	Status        string `json:"status"`
	ExecutionID   string `json:"execution_id"`
	PhaseID       string `json:"phase_id"`
	TaskID        string `json:"task_id"`
	AttemptNumber int    `json:"attempt_number"`
	PluginUsed    string `json:"plugin_used"`
	DurationMs    int64  `json:"duration_ms"`
	FinishedAt    int64  `json:"finished_at"` // epoch milliseconds, an integer
}

type succeededOutcome struct {
	outcomeFields
	Output json.RawMessage `json:"output"`
}

type failedOutcome struct {
	outcomeFields
	Error TaskError `json:"error"`
}

// TaskError fails an attempt. Retryable false skips the task's remaining retries (the fallback
// plugin, if any, gets the next attempt): for failures that trying again cannot fix.
type TaskError struct {
	Message   string `json:"message"`        // at most 8192 characters
	Code      string `json:"code,omitempty"` // at most 128 characters
	Retryable *bool  `json:"retryable,omitempty"`
}

func (e *TaskError) Error() string { return e.Message }

var notRetryable = false

// outcomeOf builds the TaskOutcome of an attempt that started at `started`.
func outcomeOf(task *DispatchTask, started time.Time, output json.RawMessage, failure *TaskError) interface{} {
	finished := time.Now()
	fields := outcomeFields{
		Type:          "TaskOutcome",
		ExecutionID:   task.ExecutionID,
		PhaseID:       task.PhaseID,
		TaskID:        task.TaskID,
		AttemptNumber: task.AttemptNumber,
		PluginUsed:    task.Plugin,
		DurationMs:    finished.Sub(started).Milliseconds(),
		FinishedAt:    finished.UnixMilli(),
	}
	if failure != nil {
		fields.Status = "failed"
		if len(failure.Message) > 8192 {
			failure.Message = failure.Message[:8192]
		}
		return failedOutcome{fields, *failure}
	}
	fields.Status = "succeeded"
	return succeededOutcome{fields, output}
}

// outcomeSubject and outcomeMsgID: where the answer goes, and the id that makes a repeated
// answer (after a crash between publishing it and acking the command) count once.
func outcomeSubject(task *DispatchTask) string { return "orchestra.outcomes." + task.ExecutionID }

func outcomeMsgID(task *DispatchTask) string {
	return fmt.Sprintf("%s:%s:%d:outcome", task.ExecutionID, task.TaskID, task.AttemptNumber)
}

// cancelNotice is published (core NATS, not stored) on orchestra.control.cancel.<execution_id>
// when an execution is cancelled or aborted: stop its running attempts, answer nothing.
type cancelNotice struct {
	ExecutionID string `json:"execution_id"`
}
