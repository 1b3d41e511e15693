DROP INDEX model_calls_trace_idx;
