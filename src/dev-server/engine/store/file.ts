import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncate,
  ftruncateSync,
  openSync,
  readSync,
  statSync,
  write,
} from "node:fs";
import { promisify } from "node:util";
import type { BodyRef } from "../model.js";

const writeAsync = promisify(write);
const datasync = promisify(fdatasync);
const truncate = promisify(ftruncate);

/**
 * An append-only file of lines, written in groups: one positioned write and one fdatasync per
 * group, so durability costs one sync per batch of records rather than one per record. A
 * failed append is cut off again, so the file never keeps half a group.
 */
export class AppendFile {
  readonly path: string;
  readonly #fd: number;
  #size: number;

  constructor(path: string, fd: number, size: number) {
    this.path = path;
    this.#fd = fd;
    this.#size = size;
  }

  /** Opens (creating) `path` for appending after its first `size` bytes; anything past them is cut. */
  static open(path: string, size: number): AppendFile {
    const fd = openSync(path, "a+");
    return new AppendFile(path, fd, size);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends and syncs; resolves once the bytes are durable. */
  async append(data: Buffer): Promise<void> {
    const start = this.#size;
    try {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await writeAsync(this.#fd, data, done, data.length - done, start + done);
        done += bytesWritten;
      }
      await datasync(this.#fd);
      this.#size = start + data.length;
    } catch (error) {
      await truncate(this.#fd, start).catch(() => {});
      throw error;
    }
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** A data file bodies are read back from, opened on first use. */
export class BodyFile {
  readonly path: string;
  #fd: number | undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** The string whose JSON literal is `length` bytes at `at`. */
  read(at: number, length: number): string {
    this.#fd ??= openSync(this.path, "r");
    const buf = Buffer.allocUnsafe(length);
    for (let done = 0; done < length; ) {
      const n = readSync(this.#fd, buf, done, length - done, at + done);
      if (n === 0) throw new Error(`${this.path} ends before the body at byte ${at}`);
      done += n;
    }
    return JSON.parse(buf.toString("utf8")) as string;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** A body at a place in a data file. */
export class OnDisk implements BodyRef {
  constructor(
    readonly file: BodyFile,
    readonly at: number,
    readonly length: number,
  ) {}

  read(): string {
    return this.file.read(this.at, this.length);
  }
}

/** Where a file stopped making sense: a line that is not a whole record. */
export interface Torn {
  /** Bytes of whole records before it. */
  goodBytes: number;
  /** Bytes after them that were dropped. */
  droppedBytes: number;
}

const CHUNK = 8 * 1024 * 1024;

/**
 * Reads a file of JSON lines, calling `onLine` with each parsed value in order. A line that does
 * not parse is a torn tail when nothing but whitespace or zero bytes follow it (a crash
 * mid-write, or a file system that extended the file before the data landed): the whole records
 * before it are kept and it is returned. Anywhere else it is corruption, and this throws.
 */
export function readLines(
  path: string,
  onLine: (value: unknown, line: number, start: number, raw: Buffer) => void,
): Torn | undefined {
  const fd = openSync(path, "r");
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    let filled = 0;
    let offset = 0; // file offset of buf[0]
    let line = 0;
    let eof = false;
    for (;;) {
      if (!eof && filled < buf.length) {
        const n = readSync(fd, buf, filled, buf.length - filled, offset + filled);
        if (n === 0) eof = true;
        filled += n;
      }
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl === -1 || nl >= filled) break;
        line++;
        const text = buf.toString("utf8", start, nl);
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          return tornOrThrow(fd, path, offset + start, line);
        }
        onLine(value, line, offset + start, buf.subarray(start, nl));
        start = nl + 1;
      }
      if (eof) {
        // A last line without its newline: a write cut short (or zeros from a file system that
        // grew the file before the data landed).
        return start < filled ? { goodBytes: offset + start, droppedBytes: filled - start } : undefined;
      }
      // Keep the partial line; grow the buffer for a line longer than it.
      const rest = filled - start;
      if (start === 0 && filled === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      } else {
        buf.copy(buf, 0, start, filled);
        offset += start;
        filled = rest;
      }
    }
  } finally {
    closeSync(fd);
  }
}

function tornOrThrow(fd: number, path: string, at: number, line: number): Torn {
  // Only a tail may be torn: look at everything after the bad line.
  const rest = Buffer.allocUnsafe(CHUNK);
  let pos = at;
  let sawNewline = false;
  let nonBlankAfterNewline = false;
  for (;;) {
    const n = readSync(fd, rest, 0, rest.length, pos);
    if (n === 0) break;
    for (let i = 0; i < n; i++) {
      const b = rest[i]!;
      if (b === 10) sawNewline = true;
      else if (sawNewline && b !== 0 && b !== 13 && b !== 32) nonBlankAfterNewline = true;
    }
    pos += n;
    if (nonBlankAfterNewline) break;
  }
  if (nonBlankAfterNewline) {
    throw new Error(`${path} line ${line} is not a valid record, and records follow it: the file is corrupt`);
  }
  return { goodBytes: at, droppedBytes: pos - at };
}

/** Cuts a file to `size` bytes, synced (a torn tail found at start). */
export function truncateFile(path: string, size: number): void {
  const fd = openSync(path, "r+");
  try {
    ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The size of the file at `path`; 0 when there is none. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
