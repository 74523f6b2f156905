/**
 * The CLI commands the console shows next to its actions (README, "Console"), built in one place
 * for the server's replies and the page. `cli` is how to call the CLI here (`npx orchestra`, with
 * NATS_URL when the console is not on the default server).
 */

/** `orchestra rerun` with the page's choices: the tasks to run again, and a chosen new id. */
export function rerunCommand(
  cli: string,
  sourceExecutionId: string,
  tasks: readonly string[] = [],
  executionId?: string,
): string {
  const named = tasks.map((task) => ` --task ${task}`).join('');
  return `${cli} rerun ${sourceExecutionId}${named}${executionId ? ` --id ${executionId}` : ''}`;
}
