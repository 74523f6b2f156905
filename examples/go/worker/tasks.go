package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The example's entry points (type "function"). A real worker would call a model, a service or
// a program here. Each returns the task's output, or a *TaskError to fail the attempt; it must
// return promptly once ctx is done (the execution was cancelled, or the deadline passed).
var functions = map[string]func(ctx context.Context, task *DispatchTask, input map[string]interface{}) (interface{}, error){
	// {text} -> {text: TEXT}
	"upper": func(_ context.Context, _ *DispatchTask, input map[string]interface{}) (interface{}, error) {
		text, ok := input["text"].(string)
		if !ok {
			return nil, &TaskError{Message: "input_context.text must be a string", Code: "BAD_INPUT", Retryable: &notRetryable}
		}
		return map[string]interface{}{"text": strings.ToUpper(text)}, nil
	},
	// {numbers: [..]} -> {sum, count}, plus the rest of the input as given
	"sum": func(_ context.Context, _ *DispatchTask, input map[string]interface{}) (interface{}, error) {
		numbers, ok := input["numbers"].([]interface{})
		if !ok {
			return nil, &TaskError{Message: "input_context.numbers must be an array", Code: "BAD_INPUT", Retryable: &notRetryable}
		}
		sum := 0.0
		for _, n := range numbers {
			value, ok := n.(float64)
			if !ok {
				return nil, &TaskError{Message: fmt.Sprintf("%v is not a number", n), Code: "BAD_INPUT", Retryable: &notRetryable}
			}
			sum += value
		}
		output := map[string]interface{}{"sum": sum, "count": len(numbers)}
		for key, value := range input {
			if key != "numbers" {
				output[key] = value
			}
		}
		return output, nil
	},
	// Fails (retryable) while attempt_number <= input_context.failures: exercises the retries.
	"flaky": func(_ context.Context, task *DispatchTask, input map[string]interface{}) (interface{}, error) {
		failures, _ := input["failures"].(float64)
		if float64(task.AttemptNumber) <= failures {
			return nil, &TaskError{Message: fmt.Sprintf("attempt %d of a flaky task fails", task.AttemptNumber), Code: "FLAKY"}
		}
		return map[string]interface{}{"attempts": task.AttemptNumber, "numbers": input["numbers"]}, nil
	},
	// Fails without retry on the plugins listed in input_context.refuse_on: the remaining
	// retries are skipped and the task's fallback plugin gets the next attempt.
	"refuse": func(_ context.Context, task *DispatchTask, input map[string]interface{}) (interface{}, error) {
		refused, _ := input["refuse_on"].([]interface{})
		for _, plugin := range refused {
			if plugin == task.Plugin {
				return nil, &TaskError{Message: "refused on " + task.Plugin, Code: "REFUSED", Retryable: &notRetryable}
			}
		}
		return map[string]interface{}{"accepted_by": task.Plugin}, nil
	},
	// Waits input_context.ms: a long task, kept alive by in-progress acks, stopped by cancel or deadline.
	"sleep": func(ctx context.Context, _ *DispatchTask, input map[string]interface{}) (interface{}, error) {
		ms, _ := input["ms"].(float64)
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return map[string]interface{}{"slept_ms": ms}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	},
}

// runTask runs the entry point and returns its output as JSON, or the attempt's error.
func runTask(ctx context.Context, task *DispatchTask, worker string) (json.RawMessage, *TaskError) {
	if task.EntryPoint.Type != "function" {
		return nil, &TaskError{Message: "entry point type " + task.EntryPoint.Type + " is not served here", Code: "UNKNOWN_ENTRY_POINT", Retryable: &notRetryable}
	}
	function, ok := functions[task.EntryPoint.Value]
	if !ok {
		return nil, &TaskError{Message: "no function " + task.EntryPoint.Value, Code: "UNKNOWN_ENTRY_POINT", Retryable: &notRetryable}
	}
	var input map[string]interface{}
	if err := json.Unmarshal(task.InputContext, &input); err != nil {
		return nil, &TaskError{Message: "input_context is not a JSON object: " + err.Error(), Code: "BAD_INPUT", Retryable: &notRetryable}
	}
	output, err := function(ctx, task, input)
	if err != nil {
		if failure, ok := err.(*TaskError); ok {
			return nil, failure
		}
		return nil, &TaskError{Message: err.Error()}
	}
	if object, ok := output.(map[string]interface{}); ok {
		object["worker"] = worker
	}
	data, err := json.Marshal(output)
	if err != nil {
		return nil, &TaskError{Message: "output is not JSON: " + err.Error(), Code: "BAD_OUTPUT", Retryable: &notRetryable}
	}
	// Orchestra refuses a larger output: fail the attempt with a clear error instead.
	if len(data) > outputLimitBytes {
		return nil, &TaskError{Message: fmt.Sprintf("output is %d bytes as JSON; the limit is %d", len(data), outputLimitBytes), Code: "OUTPUT_TOO_LARGE", Retryable: &notRetryable}
	}
	return data, nil
}

const outputLimitBytes = 512 * 1024
