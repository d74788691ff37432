/**
 * The stage runner every request pipeline shares: stages in the one order they are declared, each
 * with one signature over the request's context, and the pipeline's `record` run in `finally`, so
 * a request leaves its audit record(s) whichever way it ends (an answer, a refusal, an error, a
 * cancel). A stage returns undefined to go on, or the request's answer; a failure is thrown.
 */
import type { Result } from '@modelcontextprotocol/sdk/types.js';

/** What a stage returns: undefined to go on to the next stage, or the request's answer. */
export type StageResult = Result | undefined;

/** One stage over the context `C` of a request. Synchronous where it can be: the runner awaits only promises. */
export type Stage<C> = (call: C) => StageResult | Promise<StageResult>;

/** A request's pipeline: its stages in order, and what it records in `finally`. */
export interface Pipeline<C> {
  readonly stages: readonly Stage<C>[];
  /** Writes the request's audit record(s) from its context; runs exactly once, whatever way the request ended. */
  readonly record: (call: C) => void;
}

/**
 * Runs `call` through the stages of `pipeline` until one answers.
 * @example runPipeline(TOOL_CALL, new ToolCall(deps, caller, request, trace))
 */
export async function runPipeline<C>(pipeline: Pipeline<C>, call: C): Promise<Result> {
  try {
    for (const stage of pipeline.stages) {
      const step = stage(call);
      const answer = step instanceof Promise ? await step : step;
      if (answer !== undefined) return answer;
    }
    // Fail closed: a pipeline whose last stage does not answer is a bug, never a silent success.
    throw new Error('the request pipeline ended without an answer');
  } finally {
    pipeline.record(call);
  }
}
