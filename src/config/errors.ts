/**
 * The one error type of the config layer. `portcullis check`, startup and
 * SIGHUP reload all catch it and print `message`; callers that want the
 * individual problems (tests, a future admin endpoint) read `problems`.
 */
export class ConfigError extends Error {
  /** Stable code (STYLE §4 "Errors"): match on this, never on the message text. */
  readonly code = 'PORTCULLIS_ERR_CONFIG';
  /** One entry per problem, each `path: message` (or a file-level message such as a YAML syntax error). */
  readonly problems: readonly string[];
  /** The config file the problems were found in, when there was one. */
  readonly file: string | undefined;

  constructor(problems: readonly string[], file?: string) {
    // All problems in one message so a user fixes the whole file in one pass.
    super(`invalid config${file === undefined ? '' : ` ${file}`}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
    this.file = file;
  }
}
