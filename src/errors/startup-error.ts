/**
 * A problem with how Berth was started (a bad variable, an unreachable database): the operator's to fix, so
 * src/main.ts prints it as a heading and one line per problem, each naming what to change, without a stack trace.
 */
export class StartupError extends Error {
  constructor(
    readonly problems: string[],
    heading = 'Cannot start',
  ) {
    super(`${heading}:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'StartupError';
  }
}
