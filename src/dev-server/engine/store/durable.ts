import { readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LogEntry, Message, UserState } from "../model.js";
import { Changes } from "./changes.js";
import { claimDirectory, numberedFiles } from "./directory.js";
import { AppendFile, BodyFile, fileSize, OnDisk, readLines, truncateFile } from "./file.js";
import { bodyInLine, FORMAT, type Record, VERSION } from "./records.js";
import { DataError, Replay } from "./replay.js";
import { writeSnapshot } from "./snapshot.js";
import type { Kind, Loaded, Store } from "./store.js";

export interface DurableStoreOptions {
  /** The data directory; created when missing. */
  dir: string;
  /** Lines worth a user's attention (a torn tail cut off, a stale lock taken over). */
  warn: (line: string) => void;
  /** Journal size past which a snapshot replaces it. @default 64 MiB, or twice the last snapshot */
  compactBytes?: number;
}

/**
 * A message delayed this long has its body dropped from memory once it is synced: it is read
 * back when the message comes due. Shorter delays are not worth a read.
 */
const RELEASE_DELAY_MS = 10_000;
const releasable = (msg: Message) =>
  msg.phase === "delayed" && msg.notBefore - msg.createdAt >= RELEASE_DELAY_MS;
const HEADER = `${JSON.stringify({ k: "h", format: FORMAT, version: VERSION })}\n`;

/** The state is kept in `dir` as a journal of records and, from time to time, a snapshot. */
export class DurableStore implements Store {
  readonly #dir: string;
  readonly #warn: (line: string) => void;
  readonly #compactBytes: number;
  #journal!: AppendFile;
  #journalNo = 0;
  #snapshotBytes = 0;
  #users: UserState[] = [];
  #maxLogs = 0;

  /** What changed since the last flush. */
  readonly #changes = new Changes();
  /** A group that failed to write, written first next time. */
  #unwritten = "";
  /** Data files bodies are read back from, by path. */
  readonly #files = new Map<string, BodyFile>();

  #scheduled = false;
  /** The group being written; rejects when it could not be. */
  #flushing: Promise<void> | undefined;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #failing: unknown;
  #compacting = false;
  #closed = false;
  /** Releases the directory's lock. */
  #release: () => void = () => {};

  private constructor(options: DurableStoreOptions) {
    this.#dir = options.dir;
    this.#warn = options.warn;
    this.#compactBytes = options.compactBytes ?? 64 * 1024 * 1024;
  }

  /**
   * Opens (creating) the data directory and takes its lock. Throws a `DataError` that says what
   * to do when the directory is not usable: another server holds it, it holds files that are
   * not ours, or it cannot be written.
   */
  static open(options: DurableStoreOptions): DurableStore {
    const store = new DurableStore(options);
    store.#release = claimDirectory(options.dir);
    return store;
  }

  /** Replays the directory into `users`; the engine resumes what it returns. */
  load(users: Iterable<UserState>, maxLogs: number): Loaded {
    this.#users = [...users];
    this.#maxLogs = maxLogs;
    const files = readdirSync(this.#dir);
    for (const name of files) if (name.endsWith(".tmp")) rmSync(join(this.#dir, name), { force: true });
    const numbered = (kind: "snapshot" | "journal") => numberedFiles(files, kind);
    const snapshots = numbered("snapshot");
    const base = snapshots[snapshots.length - 1] ?? 0;
    const journals = numbered("journal").filter((n) => n >= base);
    const replay = new Replay(this.#users, maxLogs);
    const read = (path: string, tornAllowed: boolean) => {
      let first = true;
      const file = this.#file(path);
      const torn = readLines(path, (value, line, start, raw) => {
        const record = value as Record;
        if (first && record?.k !== "h") throw new DataError(`${path} does not start with a jobstash header`);
        first = false;
        try {
          replay.apply(record);
          // A long-delayed message's body stays where it is on disk, as it did before the restart.
          if (record.k === "m" && record.b !== undefined) {
            const msg = replay.message(record.id);
            const body = bodyInLine(raw);
            if (msg && body && releasable(msg))
              msg.releaseBody(new OnDisk(file, start + body.at, body.length));
          }
        } catch (error) {
          if (error instanceof DataError) throw new DataError(`${path} line ${line}: ${error.message}`);
          throw new DataError(`${path} line ${line} is not a valid record (${(error as Error).message})`);
        }
      });
      if (torn && !tornAllowed) throw new DataError(`${path} is cut short; only the newest journal may be`);
      return torn;
    };
    try {
      if (base > 0) {
        const path = join(this.#dir, `snapshot-${base}.jsonl`);
        read(path, false);
        this.#snapshotBytes = statSync(path).size;
      }
      let torn: ReturnType<typeof read>;
      for (const [i, n] of journals.entries()) torn = read(this.#journalPath(n), i === journals.length - 1);
      this.#journalNo = journals[journals.length - 1] ?? Math.max(base, 1);
      const path = this.#journalPath(this.#journalNo);
      let size = fileSize(path);
      if (torn) {
        this.#warn(
          `jobstash dev: ${path} ended in an incomplete record (a crash mid-write); recovered up to the last complete one (${torn.droppedBytes} bytes dropped)`,
        );
        truncateFile(path, torn.goodBytes);
        size = torn.goodBytes;
      }
      if (size === 0) {
        writeFileSync(path, HEADER);
        size = Buffer.byteLength(HEADER);
      }
      this.#journal = AppendFile.open(path, size);
    } catch (error) {
      this.#release();
      if (error instanceof DataError) throw error;
      throw new DataError(`cannot use the data directory ${this.#dir}: ${(error as Error).message}`);
    }
    // Files an interrupted compaction meant to delete.
    for (const n of numbered("journal")) if (n < base) rmSync(this.#journalPath(n), { force: true });
    for (const n of snapshots) if (n < base) rmSync(join(this.#dir, `snapshot-${n}.jsonl`), { force: true });
    this.#changes.nextConfigId = replay.maxConfigId + 1;
    const live = replay.finish();
    return { live, slotHolders: new Set(replay.slotHolders()), maxOrder: replay.maxOrder };
  }

  #journalPath(n: number): string {
    return join(this.#dir, `journal-${n}.jsonl`);
  }

  // ---------------------------------------------------------------- marks

  created(msg: Message): void {
    this.#changes.created(msg);
    this.#soon();
  }

  changed(msg: Message): void {
    this.#changes.changed(msg);
    this.#soon();
  }

  logged(entry: LogEntry): void {
    this.#changes.logged(entry);
    this.#soon();
  }

  touched(user: UserState, kind: Kind, key: string): void {
    this.#changes.touched(user, kind, key);
    this.#soon();
  }

  get #dirty(): boolean {
    return this.#changes.any || this.#unwritten !== "";
  }

  // ---------------------------------------------------------------- group commit

  /** Resolves once everything marked so far is on disk (synced); rejects when it cannot be written. */
  commit(): Promise<void> | undefined {
    if (!this.#dirty) return this.#flushing;
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#soon();
    });
  }

  /**
   * Flushes on the next turn of the event loop, so every request that arrived in this one
   * shares the write and the sync; while a flush is in progress, marks gather for the next.
   */
  #soon(): void {
    if (this.#scheduled || this.#flushing || this.#closed) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#flushing || !this.#dirty) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    const journal = this.#journal;
    const start = journal.size + Buffer.byteLength(this.#unwritten);
    const { text: serialized, release } = this.#changes.take(releasable);
    const text = this.#unwritten + serialized;
    this.#unwritten = "";
    const flushing = journal.append(Buffer.from(text)).catch((error: unknown) => {
      this.#unwritten = text + this.#unwritten;
      if (!this.#failing) {
        this.#warn(
          `jobstash dev: cannot write ${this.#journal.path}: ${(error as Error).message}; requests that change state are refused until it can`,
        );
      }
      this.#failing = error;
      throw new DataError(`the data directory cannot be written: ${(error as Error).message}`);
    });
    this.#flushing = flushing;
    flushing.then(
      () => {
        if (this.#failing) this.#warn(`jobstash dev: ${this.#dir} can be written again`);
        this.#failing = undefined;
        const file = this.#file(journal.path);
        for (const [msg, at, length] of release) {
          if (releasable(msg)) msg.releaseBody(new OnDisk(file, start + at, length));
        }
        for (const w of waiters) w.resolve();
        this.#afterFlush();
      },
      (error: unknown) => {
        for (const w of waiters) w.reject(error);
        this.#afterFlush();
      },
    );
  }

  #afterFlush(): void {
    this.#flushing = undefined;
    if (this.#closed) return;
    if (this.#failing) {
      // Try again a little later rather than spin on a full disk.
      if (this.#dirty) setTimeout(() => this.#flush(), 200).unref();
      return;
    }
    this.#maybeCompact();
    if (this.#dirty) this.#soon();
  }

  #file(path: string): BodyFile {
    let file = this.#files.get(path);
    if (!file) {
      file = new BodyFile(path);
      this.#files.set(path, file);
    }
    return file;
  }

  // ---------------------------------------------------------------- compaction

  /**
   * When the journal has grown well past the state it describes, start a new journal and write
   * a snapshot of the state beside it, then drop the old pair. The snapshot is written in
   * slices while the engine runs: every record states a whole state, so the records the new
   * journal gets meanwhile, replayed over the snapshot, still end where the engine is.
   */
  #maybeCompact(): void {
    if (this.#compacting || this.#journal.size < Math.max(this.#compactBytes, 2 * this.#snapshotBytes))
      return;
    this.#compacting = true;
    const previous = this.#journalNo;
    const next = previous + 1;
    const path = this.#journalPath(next);
    try {
      writeFileSync(path, HEADER);
    } catch (error) {
      this.#compacting = false;
      this.#warn(`jobstash dev: cannot start a new journal: ${(error as Error).message}`);
      return;
    }
    const old = this.#journal;
    this.#journal = AppendFile.open(path, Buffer.byteLength(HEADER));
    this.#journalNo = next;
    old.close();
    this.#changes.newJournal();
    writeSnapshot({
      dir: this.#dir,
      number: next,
      users: this.#users,
      maxLogs: this.#maxLogs,
      header: HEADER,
      flushJournal: () => this.commit() ?? Promise.resolve(),
    }).then(
      (snapshot) => {
        this.#snapshotBytes = snapshot.size;
        // Bodies read from the old files move to the snapshot before those files go.
        const file = this.#file(join(this.#dir, `snapshot-${next}.jsonl`));
        for (const [msg, at, length] of snapshot.bodies) msg.moveBody(new OnDisk(file, at, length));
        for (let n = previous; n >= 1; n--) {
          for (const path of [this.#journalPath(n), join(this.#dir, `snapshot-${n}.jsonl`)]) {
            this.#files.get(path)?.close();
            this.#files.delete(path);
            rmSync(path, { force: true });
          }
        }
        this.#compacting = false;
      },
      (error: unknown) => {
        // The old files stay: with them, the new journal still replays to the current state.
        this.#compacting = false;
        this.#warn(
          `jobstash dev: compaction failed (${(error as Error).message}); the journal keeps growing`,
        );
      },
    );
  }

  async close(): Promise<void> {
    try {
      await this.commit();
    } finally {
      this.#closed = true;
      await this.#flushing?.catch(() => {});
      this.#journal?.close();
      for (const file of this.#files.values()) file.close();
      this.#release();
    }
  }
}
