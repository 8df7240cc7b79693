/** What a command kept in its own file needs from the dispatcher (cli.ts): its errors and readers. */
export interface CommandHelpers {
  /** A usage error for this command (exit 2 with the usage text). */
  usage(message: string): Error;
  /** A scenario's text (I/O errors propagate as the dispatcher reports them). */
  read(file: string): string;
  /** A validated `--kernel` value. */
  kernel(value: string): string;
}
