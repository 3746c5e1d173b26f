import path from 'node:path';
import { closeFile, datasync, openFile, syncDirectory, truncate, writeAll } from './fsx';
import { segmentFile } from './files';

/** The first line of every segment: which snapshot lineage its records continue. */
export interface SegmentHeader {
  journal: string;
  segment: number;
}

/**
 * One journal file, written at offsets we keep ourselves: `size` is how much of it is durable. A
 * write that fails leaves bytes beyond `size` (maybe a whole record that was then rejected); cutBack()
 * removes them, so that a rejected change can never be replayed and the next write starts clean.
 */
export class Segment {
  private constructor(
    readonly file: string,
    readonly segment: number,
    private readonly fd: number,
    /** Bytes on disk and synced. */
    private durableSize: number,
    /** The header's size: a segment no longer than this holds no record. */
    private readonly headerSize: number,
  ) {}

  /** Creates (or overwrites a leftover of) segment `segment` with its header, durably. */
  static async create(snapshot: string, segment: number, lineage: string): Promise<Segment> {
    const file = segmentFile(snapshot, segment);
    const header = Buffer.from(JSON.stringify({ journal: lineage, segment } satisfies SegmentHeader) + '\n');
    const fd = await openFile(file, 'w');
    try {
      await writeAll(fd, header, 0);
      await datasync(fd);
      await syncDirectory(path.dirname(file));
    } catch (error) {
      await closeFile(fd).catch(() => undefined);
      throw error;
    }
    return new Segment(file, segment, fd, header.length, header.length);
  }

  get size(): number {
    return this.durableSize;
  }

  get hasRecords(): boolean {
    return this.durableSize > this.headerSize;
  }

  /** Writes the records and waits for fdatasync: they are durable when this resolves. */
  async append(records: Buffer): Promise<void> {
    await writeAll(this.fd, records, this.durableSize);
    await datasync(this.fd);
    this.durableSize += records.length;
  }

  /** Drops whatever a failed write left after the durable part. */
  async cutBack(): Promise<void> {
    await truncate(this.fd, this.durableSize);
    await datasync(this.fd);
  }

  close(): Promise<void> {
    return closeFile(this.fd);
  }
}
