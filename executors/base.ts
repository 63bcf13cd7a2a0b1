/**
 * The executor contract and base class live in src/runner/executor.ts (the runner is written against them);
 * executors import them from here.
 */
export {
  BaseExecutor,
  type ChunkMetrics,
  type ChunkResult,
  type Executor,
  type ExecutorContext,
  type ExecutorFactory,
  type ExecutorOptions,
  type ExecutorStats,
  type JobSpec,
  type WorkItem,
} from '../src/runner/executor.ts';
