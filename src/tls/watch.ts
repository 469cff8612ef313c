/**
 * Watches certificate files the way they are rotated in practice (issue 7):
 *
 * - Kubernetes Secret volumes (cert-manager) swap a `..data` symlink in the mounted directory, so
 *   the watched path never changes its name and a watch on the file itself would stay on the old
 *   inode. Hence `fs.watch` on each file's directory, reacting to any event there.
 * - Tools that rename a new file over the old one, or rewrite it in place, are caught the same way.
 * - fs.watch is best effort (NFS, some overlay filesystems, inotify limits), so a periodic
 *   `stat` of every path (following symlinks: inode, size, mtime) backs it up.
 *
 * Events are debounced: a pair written as two files (or one file in two writes) is read once
 * both are there. The callback runs one at a time; a change during a run schedules another.
 * Nothing here reads synchronously, and no error escapes: each is logged and watching goes on.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';

export interface FileWatcherOptions {
  readonly logger: Logger;
  /** Quiet time after the last event before the callback runs. */
  readonly debounceMs?: number;
  /** Interval of the stat fallback. */
  readonly pollMs?: number;
}

const DEFAULT_DEBOUNCE_MS = 250;
const DEFAULT_POLL_MS = 10_000;

export class FileWatcher {
  readonly #paths: readonly string[];
  readonly #onChange: () => Promise<void>;
  readonly #logger: Logger;
  readonly #debounceMs: number;
  readonly #pollMs: number;
  readonly #watchers: FSWatcher[] = [];
  #signatures = new Map<string, string>();
  #debounce: NodeJS.Timeout | null = null;
  #poll: NodeJS.Timeout | null = null;
  #polling = false;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;

  constructor(paths: readonly string[], onChange: () => Promise<void>, opts: FileWatcherOptions) {
    this.#paths = [...new Set(paths.map((p) => resolve(p)))];
    this.#onChange = onChange;
    this.#logger = opts.logger;
    this.#debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.#pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  }

  /** Starts watching; the current signatures are the baseline (the caller has just loaded the files). */
  async start(): Promise<void> {
    this.#signatures = await this.#stats();
    if (this.#closed) return;
    for (const dir of new Set(this.#paths.map((p) => dirname(p)))) {
      try {
        // persistent: false — a watcher must never be what keeps the process alive.
        const w = watch(dir, { persistent: false }, () => this.#schedule());
        w.on('error', (err) => {
          this.#logger.warn({ dir, err: err.message }, 'certificate directory watch failed; polling continues');
          w.close();
        });
        this.#watchers.push(w);
      } catch (err) {
        this.#logger.warn({ dir, err: (err as Error).message }, 'cannot watch certificate directory; polling only');
      }
    }
    this.#poll = setInterval(() => this.#pollOnce(), this.#pollMs);
    this.#poll.unref();
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watchers) w.close();
    this.#watchers.length = 0;
    if (this.#poll !== null) clearInterval(this.#poll);
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#poll = null;
    this.#debounce = null;
  }

  /** Resolves when the callback runs triggered so far are done (tests). */
  async settled(): Promise<void> {
    while (this.#running !== null || this.#debounce !== null) {
      await (this.#running ?? new Promise((r) => setTimeout(r, this.#debounceMs)));
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      this.#run();
    }, this.#debounceMs);
    this.#debounce.unref();
  }

  #run(): void {
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    // The baseline is taken before the run: a change made while it reads (and missed by
    // fs.watch) then still differs from the baseline at the next poll.
    this.#running = this.#stats()
      .then(async (before) => {
        await this.#onChange();
        this.#signatures = before;
      })
      .catch((err: unknown) => this.#logger.error({ err }, 'certificate reload failed unexpectedly'))
      .finally(() => {
        this.#running = null;
        if (this.#again && !this.#closed) {
          this.#again = false;
          this.#run();
        }
      });
  }

  #pollOnce(): void {
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    this.#stats()
      .then((now) => {
        let changed = false;
        for (const [path, sig] of now) if (this.#signatures.get(path) !== sig) changed = true;
        this.#signatures = now;
        if (changed) this.#schedule();
      })
      .catch((err: unknown) => this.#logger.warn({ err }, 'certificate file poll failed'))
      .finally(() => { this.#polling = false; });
  }

  /** inode, size and mtime of each path; a missing file is a signature too ("missing"). */
  async #stats(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    await Promise.all(this.#paths.map(async (p) => {
      try {
        const s = await stat(p);
        out.set(p, `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`);
      } catch (err) {
        out.set(p, `missing:${(err as NodeJS.ErrnoException).code ?? ''}`);
      }
    }));
    return out;
  }
}
