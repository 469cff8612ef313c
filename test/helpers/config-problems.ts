/** The config validator's answer to a config a test expects it to refuse. */
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/validate.js';

/**
 * The problems of a config that must fail. Throws (failing the test) when the config is
 * accepted or the validator throws anything but a ConfigError, so an expected refusal can
 * never pass by returning nothing.
 */
export function problemsOf(doc: unknown): readonly string[] {
  try {
    validateConfig(doc);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}
